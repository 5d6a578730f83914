//! Per page, what a first load costs and how soon it answers: the demo server (the `latchkey`
//! binary beside this one, as for the password figure) on a free port, measured by
//! `end2end/bench/tti.mjs` in Chromium under Lighthouse's Slow 4G throttle. The harness starts
//! the server rather than the Makefile because it already knows how (and stops it on any exit).

use crate::passwords;
use anyhow::{bail, Context, Result};
use std::path::Path;
use std::process::Command;

/// The script, found from the source tree: the harness runs from anywhere.
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../end2end/bench/tti.mjs");

pub async fn run(work: &Path, site_root: &Path) -> Result<()> {
    // The sample keys in every state with a day of usage: lists as a person sees them, not empty.
    let (server, base) = passwords::start(work, site_root, "pages", &["--demo-samples"]).await?;
    // The script prints its own table; a blocking wait is fine, nothing else runs meanwhile.
    let status = Command::new("node")
        .arg(SCRIPT)
        .arg(&base)
        .status()
        .context("running node (make node-deps installs the script's Playwright)")?;
    drop(server);
    if !status.success() {
        bail!("the page figures failed ({status})");
    }
    crate::say("");
    Ok(())
}
