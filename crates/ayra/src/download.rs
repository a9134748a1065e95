//! Binary downloads (recordings, export files) written to a file or any
//! `AsyncWrite` chunk by chunk, never held whole in memory.

use crate::Response;
use crate::error::{Error, Result};
use futures::TryStreamExt;
use progenitor_client::ByteStream;
use std::path::Path;
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// Adds `write_to` and `save` to binary responses.
///
/// ```no_run
/// # async fn run(client: ayra::Client) -> ayra::Result<()> {
/// use ayra::Download;
/// let bytes = client
///     .get_conversation_recording()
///     .conversation_id("conv_123")
///     .send()
///     .await?
///     .save("call.mp3")
///     .await?;
/// println!("saved {bytes} bytes");
/// # Ok(()) }
/// ```
pub trait Download {
    /// Copies the body into `out` as it arrives; returns the byte count.
    fn write_to<W: AsyncWrite + Unpin + Send>(
        self,
        out: &mut W,
    ) -> impl std::future::Future<Output = Result<u64>> + Send;

    /// Writes the body to a file at `path` (replacing it). The bytes go to a
    /// temporary file beside it, renamed to `path` once complete: a failed
    /// download leaves no partial file and keeps an older one intact.
    fn save(
        self,
        path: impl AsRef<Path> + Send,
    ) -> impl std::future::Future<Output = Result<u64>> + Send;
}

impl Download for Response<ByteStream> {
    async fn write_to<W: AsyncWrite + Unpin + Send>(self, out: &mut W) -> Result<u64> {
        let request_id =
            crate::response::header_str(self.headers(), "x-request-id").map(str::to_string);
        let mut stream = self.into_value().into_inner_stream();
        let mut written = 0u64;
        while let Some(chunk) = stream.try_next().await.map_err(|e| {
            let call = crate::error::Call {
                attempts: 1,
                ..Default::default()
            };
            Error::from_reqwest(e, request_id.clone(), "the next chunk", call)
        })? {
            out.write_all(&chunk).await.map_err(io_error)?;
            written += chunk.len() as u64;
        }
        out.flush().await.map_err(io_error)?;
        Ok(written)
    }

    async fn save(self, path: impl AsRef<Path> + Send) -> Result<u64> {
        let path = path.as_ref();
        let name = path.file_name().ok_or_else(|| {
            Error::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{} names no file", path.display()),
            ))
        })?;
        let mut partial = name.to_os_string();
        partial.push(format!(".{}.part", uuid::Uuid::new_v4().simple()));
        let partial = path.with_file_name(partial);
        let written = async {
            let mut file = tokio::fs::File::create(&partial).await.map_err(io_error)?;
            let written = self.write_to(&mut file).await?;
            file.sync_all().await.map_err(io_error)?;
            tokio::fs::rename(&partial, path).await.map_err(io_error)?;
            Ok(written)
        }
        .await;
        if written.is_err() {
            let _ = tokio::fs::remove_file(&partial).await;
        }
        written
    }
}

fn io_error(e: std::io::Error) -> Error {
    Error::Io(e)
}
