//! Every list operation as a lazy stream of pages or items.
//!
//! The generator implements [`ListOperation`] for the builder of every
//! operation that returns the list envelope, so `client.list_contacts()
//! .tag("vip").items()` works for all of them.
//!
//! A stream follows `links.next` until it is null, so a list that grows
//! while it is read is read to its end. Pages are offset windows (`page`,
//! `per_page`): an item inserted ahead of the reader pushes the rest of the
//! list one place later, so the next page starts with items already yielded.
//! They are dropped by id: a stream remembers the ids of its last
//! `prefetch + 2` pages and never yields an id twice unless more than
//! `(prefetch + 1) × per_page` items are inserted ahead of the reader while
//! those pages are read. Inserts never make a stream miss an item that is in
//! the list for the whole iteration. Deletes can: when items before the
//! reader are deleted, the rest of the list moves up past it, and as many
//! items as were deleted are skipped at the next page boundary (items after
//! the reader are unaffected; deleted items may or may not be yielded).
//!
//! Prefetch: after a page arrives, the next page and up to `prefetch` more
//! (no further than the last page known) are requested concurrently while
//! the caller consumes earlier ones; memory stays bounded by `prefetch + 1`
//! pages whatever the total. A page requested ahead may be served before the
//! page it follows; it is kept only when it reports the same `total` as that
//! page (the list did not change between them), and otherwise requested
//! again, so prefetch never loses an item to reordering.

use crate::Response;
use crate::error::Result;
use crate::runtime::BoxFuture;
use crate::types::{Links, ListMeta};
use futures::stream::{self, BoxStream, FuturesOrdered, Stream, StreamExt, TryStreamExt};
use std::collections::{HashSet, VecDeque};

/// Pages requested ahead of the consumer by default.
pub const DEFAULT_PREFETCH: usize = 4;

/// A list envelope: items, `meta` and `links`.
pub trait ListEnvelope: Send + 'static {
    /// The item type.
    type Item: Send + 'static;
    /// Splits the envelope.
    fn into_parts(self) -> (Vec<Self::Item>, ListMeta, Links);
    /// The item's id, when items have one: a stream yields each id once.
    fn id(item: &Self::Item) -> Option<&str>;
}

/// A list request that can be sent for any page. Implemented by the
/// generator for every list operation's builder.
pub trait ListOperation<'a>: Clone + Send + Sized + 'a {
    /// The envelope it returns.
    type Page: ListEnvelope;
    /// Sets the page number.
    fn with_page(self, page: u64) -> Self;
    /// Sends the request for the page set.
    fn send_page(self) -> BoxFuture<'a, Result<Response<Self::Page>>>;
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
    /// All pages, from the builder's page (or 1) until `links.next` is
    /// null, with the default prefetch. A page holds only items the stream
    /// has not yielded before (see the module notes on changing lists).
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
    let walk = Walk {
        request,
        prefetch,
        in_flight: FuturesOrdered::new(),
        expected: None,
        to_request: 0,
        last_page_hint: 0,
        total: None,
        seen: VecDeque::new(),
        done: false,
    };
    stream::unfold(walk, |mut walk| async move {
        let page = walk.next_page().await?;
        Some((page, walk))
    })
    .fuse()
}

type PageFuture<'a, L> =
    BoxFuture<'a, (u64, bool, Result<Response<<L as ListOperation<'a>>::Page>>)>;

/// The state of one stream of pages.
struct Walk<'a, L: ListOperation<'a>> {
    request: L,
    prefetch: usize,
    /// Requests sent, in page order: (page, speculative, response).
    in_flight: FuturesOrdered<PageFuture<'a, L>>,
    /// The page that must come next (after the first page).
    expected: Option<u64>,
    /// The next page number to request.
    to_request: u64,
    /// `total_pages` of the last page read: speculation stops there.
    last_page_hint: u64,
    /// `total` of the last page read.
    total: Option<u64>,
    /// Ids of the items of the last pages read, newest last.
    seen: VecDeque<HashSet<String>>,
    done: bool,
}

impl<'a, L: ListOperation<'a>> Walk<'a, L> {
    async fn next_page(&mut self) -> Option<Result<Page<Item<'a, L>>>> {
        loop {
            if self.done {
                return None;
            }
            self.request_ahead();
            let (number, speculative, response) = self.in_flight.next().await?;
            let page = match response {
                Ok(rv) => page_of(rv.into_inner()),
                Err(e) => {
                    self.stop();
                    return Some(Err(e));
                }
            };
            // A page requested before the previous one arrived may have been
            // served before it; if the list changed in between, the order of
            // the two is unknown and items could fall between them: ask again.
            if speculative && self.total.is_some_and(|t| t != page.meta.total) {
                self.in_flight = FuturesOrdered::new();
                self.to_request = number;
                continue;
            }
            let first = self.expected.is_none();
            let number = page.meta.page;
            self.total = Some(page.meta.total);
            self.last_page_hint = page.meta.total_pages;
            self.expected = Some(number.saturating_add(1));
            if first {
                self.to_request = number.saturating_add(1);
            }
            // The end: no `next`, or a page past the end (the list shrank).
            if page.links.next.is_none() || page.items.is_empty() {
                self.stop();
                if page.items.is_empty() && !first {
                    return None;
                }
            }
            let page = self.without_repeats(page);
            if page.items.is_empty() && !first {
                // Every item was already yielded.
                if self.done {
                    return None;
                }
                continue;
            }
            return Some(Ok(page));
        }
    }

    /// Sends the next page's request, and speculatively up to `prefetch`
    /// more, no further than the last known page.
    fn request_ahead(&mut self) {
        let Some(expected) = self.expected else {
            if self.in_flight.is_empty() {
                let request = self.request.clone().send_page();
                self.in_flight
                    .push_back(Box::pin(async move { (0, false, request.await) }));
            }
            return;
        };
        while self.in_flight.len() <= self.prefetch
            && (self.to_request == expected || self.to_request <= self.last_page_hint)
        {
            let number = self.to_request;
            if number == 0 {
                return;
            }
            // Only the page right after one already read is certain to be
            // served after it.
            let speculative = number != expected;
            let request = self.request.clone().with_page(number).send_page();
            self.in_flight.push_back(Box::pin(
                async move { (number, speculative, request.await) },
            ));
            self.to_request = number.saturating_add(1);
        }
    }

    /// Drops the items already yielded by the remembered pages, and
    /// remembers this page's ids.
    fn without_repeats(&mut self, mut page: Page<Item<'a, L>>) -> Page<Item<'a, L>> {
        let ids: HashSet<String> = page
            .items
            .iter()
            .filter_map(|item| <L::Page as ListEnvelope>::id(item).map(str::to_string))
            .collect();
        page.items.retain(|item| {
            <L::Page as ListEnvelope>::id(item)
                .is_none_or(|id| !self.seen.iter().any(|page| page.contains(id)))
        });
        self.seen.push_back(ids);
        while self.seen.len() > self.prefetch + 2 {
            self.seen.pop_front();
        }
        page
    }

    /// Ends the stream; requests still in flight are dropped (cancelled).
    fn stop(&mut self) {
        self.done = true;
        self.in_flight = FuturesOrdered::new();
    }
}

fn page_of<E: ListEnvelope>(envelope: E) -> Page<E::Item> {
    let (items, meta, links) = envelope.into_parts();
    Page { items, meta, links }
}
