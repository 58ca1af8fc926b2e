//! The blob cache: `<cache>/blobs/sha256/<hex>`, every file in it verified content.
//!
//! A blob is streamed from the registry to a temporary file beside its final place while it is
//! hashed and counted, and renamed into place only when its size and digest are those the
//! manifest declares: an interrupted or corrupted download leaves nothing behind. A cached blob is
//! re-hashed before it is used again; one that no longer matches is removed and downloaded anew.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use stowaway_image::{Digest, DigestReader};

use crate::client::Client;
use crate::error::RegistryError;
use crate::manifest::Descriptor;

const CHUNK: usize = 64 << 10;

pub struct Cache {
    /// `<cache>/blobs/sha256`.
    dir: PathBuf,
    /// The reference being pulled, for messages.
    shown: String,
}

impl Cache {
    pub fn open(cache_dir: &Path, shown: &str) -> Result<Cache, RegistryError> {
        let dir = cache_dir.join("blobs").join("sha256");
        std::fs::create_dir_all(&dir).map_err(|error| RegistryError::Io {
            reference: shown.to_string(),
            path: dir.clone(),
            error,
        })?;
        Ok(Cache {
            dir,
            shown: shown.to_string(),
        })
    }

    fn io(&self, path: &Path) -> impl FnOnce(io::Error) -> RegistryError {
        let reference = self.shown.clone();
        let path = path.to_path_buf();
        move |error| RegistryError::Io {
            reference,
            path,
            error,
        }
    }

    fn invalid(&self, message: String) -> RegistryError {
        RegistryError::Invalid {
            reference: self.shown.clone(),
            message,
        }
    }

    /// Whether the cache holds the blob intact; a damaged copy is removed.
    fn holds(&self, path: &Path, digest: &Digest, size: u64) -> Result<bool, RegistryError> {
        let file = match File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(self.io(path)(e)),
        };
        let intact = file.metadata().map_err(self.io(path))?.len() == size
            && DigestReader::new(file).finish().map_err(self.io(path))?.0 == *digest;
        if !intact {
            match std::fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(self.io(path)(e)),
            }
        }
        Ok(intact)
    }

    /// The cached file of the blob `descriptor` names, downloaded from the repository unless the
    /// cache already holds it. `downloaded` counts the bytes received, reported to `progress`.
    pub fn blob(
        &self,
        client: &mut Client,
        repository: &str,
        descriptor: &Descriptor,
        downloaded: &mut u64,
        progress: &dyn Fn(u64),
    ) -> Result<(Digest, PathBuf), RegistryError> {
        let digest = Digest::parse(&descriptor.digest)
            .map_err(|m| self.invalid(format!("the manifest names a blob by {m}")))?;
        let size = descriptor.size;
        let path = self.dir.join(digest.hex());
        if self.holds(&path, &digest, size)? {
            return Ok((digest, path));
        }
        let url_path = format!("/v2/{repository}/blobs/{digest}");
        let what = format!("blob {digest}");
        let response = client.get(&url_path, None, &what)?;
        let announced = response
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if let Some(announced) = announced
            && announced != size
        {
            return Err(self.invalid(format!(
                "{what} is {announced} bytes, the manifest says {size}"
            )));
        }
        let mut partial = tempfile::Builder::new()
            .prefix(".partial-")
            .tempfile_in(&self.dir)
            .map_err(self.io(&self.dir))?;
        // One byte more than declared is read, to tell a body that is too long.
        let body = response
            .into_body()
            .into_reader()
            .take(size.saturating_add(1));
        let mut reader = DigestReader::new(body);
        let mut buffer = vec![0u8; CHUNK];
        loop {
            let n = match reader.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(client.transport(&url_path, &e)),
            };
            partial
                .write_all(&buffer[..n])
                .map_err(self.io(partial.path()))?;
            *downloaded += n as u64;
            progress(*downloaded);
        }
        let (actual, received) = reader
            .finish()
            .map_err(|e| client.transport(&url_path, &e))?;
        if received != size {
            return Err(self.invalid(format!(
                "{what}: the registry sent {} bytes, the manifest says {size}",
                if received > size {
                    "more than that".to_string()
                } else {
                    received.to_string()
                }
            )));
        }
        if actual != digest {
            return Err(self.invalid(format!(
                "{what} does not match its digest (the registry sent {actual})"
            )));
        }
        partial
            .as_file()
            .sync_all()
            .map_err(self.io(partial.path()))?;
        partial
            .persist(&path)
            .map_err(|e| self.io(&path)(e.error))?;
        Ok((digest, path))
    }
}
