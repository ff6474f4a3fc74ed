#!/usr/bin/env python3
"""Keeps Cargo.toml's `rust-version` true.

No other toolchain can be installed on our machines, so instead of building with the
declared version we compare it with the `rust-version` every dependency declares
(`cargo metadata`, all targets and dev-dependencies included). Our own code is checked
by clippy's `incompatible_msrv` lint, which reads the same `rust-version`.
"""

import json
import subprocess
import sys


def version(text):
    """"1.89" and "1.89.0" are the same version."""
    parts = [int(part) for part in text.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def main():
    metadata = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--locked"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    ours = next(p for p in metadata["packages"] if p["id"] in metadata["workspace_members"])
    declared = ours.get("rust_version")
    if not declared:
        sys.exit("Cargo.toml has no rust-version: set it to the oldest Rust that builds casebook")
    needed = [
        (version(p["rust_version"]), p["name"], p["version"])
        for p in metadata["packages"]
        if p.get("rust_version") and p["id"] not in metadata["workspace_members"]
    ]
    highest = max(needed)
    if version(declared) < highest[0]:
        sys.exit(
            f"Cargo.toml says rust-version = \"{declared}\", but {highest[1]} {highest[2]} needs "
            f"Rust {'.'.join(map(str, highest[0][:2]))}: raise rust-version to it"
        )
    print(
        f"rust-version {declared}: the highest a dependency needs is "
        f"{'.'.join(map(str, highest[0]))} ({highest[1]} {highest[2]})"
    )


if __name__ == "__main__":
    main()
