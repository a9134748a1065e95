//! Every list operation as a lazy stream of pages or items.
//!
//! The generator implements [`ListOperation`] for the builder of every
//! operation that returns the list envelope, so `client.list_contacts()
//! .tag("vip").items()` works for all of them. After the first page, up to
//! `prefetch` further pages are requested concurrently while the caller
//! consumes earlier ones; memory stays bounded by `prefetch + 1` pages
//! whatever the total.

use crate::error::Result;
use crate::runtime::BoxFuture;
use crate::types::{Links, ListMeta};
use futures::stream::{self, BoxStream, Stream, StreamExt, TryStreamExt};
use progenitor_client::ResponseValue;
use std::num::NonZeroU64;

/// Pages requested ahead of the consumer by default.
pub const DEFAULT_PREFETCH: usize = 4;

/// A list envelope: items, `meta` and `links`.
pub trait ListEnvelope: Send + 'static {
    /// The item type.
    type Item: Send + 'static;
    /// Splits the envelope.
    fn into_parts(self) -> (Vec<Self::Item>, ListMeta, Links);
}

/// A list request that can be sent for any page. Implemented by the
/// generator for every list operation's builder.
pub trait ListOperation<'a>: Clone + Send + Sized + 'a {
    /// The envelope it returns.
    type Page: ListEnvelope;
    /// Sets the page number.
    fn with_page(self, page: NonZeroU64) -> Self;
    /// Sends the request for the page set.
    fn send_page(self) -> BoxFuture<'a, Result<ResponseValue<Self::Page>>>;
}

/// One page: its items and where it sits in the list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Pagination metadata (`total`, `page`, `total_pages`, ...).
    pub meta: ListMeta,
    /// Links to neighbouring pages.
    pub links: Links,
}

type Item<'a, L> = <<L as ListOperation<'a>>::Page as ListEnvelope>::Item;

/// Streams over every list operation. In scope via `ayra::prelude::*`.
pub trait Paginate<'a>: ListOperation<'a> {
    /// All pages, from the builder's page (or 1) to the last, with the
    /// default prefetch.
    fn pages(self) -> BoxStream<'a, Result<Page<Item<'a, Self>>>> {
        self.pages_with_prefetch(DEFAULT_PREFETCH)
    }

    /// All pages, requesting up to `prefetch` pages ahead of the one being
    /// consumed (0: one request at a time, like a hand-written loop).
    fn pages_with_prefetch(self, prefetch: usize) -> BoxStream<'a, Result<Page<Item<'a, Self>>>> {
        pages(self, prefetch).boxed()
    }

    /// All items of all pages, lazily. An error ends the stream after being
    /// yielded (retries have been spent by then).
    fn items(self) -> BoxStream<'a, Result<Item<'a, Self>>> {
        self.pages()
            .map_ok(|page| stream::iter(page.items.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }

    /// Collects at most `limit` items, fetching no page beyond them.
    fn collect_up_to(self, limit: usize) -> BoxFuture<'a, Result<Vec<Item<'a, Self>>>> {
        Box::pin(self.items().take(limit).try_collect())
    }
}

impl<'a, L: ListOperation<'a>> Paginate<'a> for L {}

fn pages<'a, L: ListOperation<'a>>(
    request: L,
    prefetch: usize,
) -> impl Stream<Item = Result<Page<Item<'a, L>>>> + Send + 'a {
    let first = request.clone().send_page();
    stream::once(first)
        .map(move |first| {
            let first = first.map(|rv| page_of(rv.into_inner()));
            let rest: BoxStream<'a, Result<Page<Item<'a, L>>>> = match &first {
                Ok(p) if p.links.next.is_some() && p.meta.page.get() < p.meta.total_pages => {
                    let (from, to) = (p.meta.page.get() + 1, p.meta.total_pages);
                    let request = request.clone();
                    stream::iter(from..=to)
                        .map(move |n| {
                            let page = NonZeroU64::new(n).expect("pages start at 1");
                            request.clone().with_page(page).send_page()
                        })
                        .buffered(prefetch + 1)
                        .map_ok(|rv| page_of(rv.into_inner()))
                        .boxed()
                }
                _ => stream::empty().boxed(),
            };
            stream::once(async { first }).chain(rest)
        })
        .flatten()
        // Stop at the first error and at a page past the end (the list
        // shrank while it was read).
        .scan(false, |failed, page| {
            let item = (!*failed).then_some(page);
            if let Some(Err(_)) = &item {
                *failed = true;
            }
            futures::future::ready(item)
        })
        .try_take_while(|p| {
            futures::future::ready(Ok(!p.items.is_empty() || p.meta.page.get() == 1))
        })
}

fn page_of<E: ListEnvelope>(envelope: E) -> Page<E::Item> {
    let (items, meta, links) = envelope.into_parts();
    Page { items, meta, links }
}
