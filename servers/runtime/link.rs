// Shared by every program's `build.rs` (`include!`d): links the binary
// with the one user linker script, `servers/runtime/user.ld`.

/// Tells cargo to link this package's binaries with `user.ld`, found
/// relative to the package's own directory (`rel` is the path from the
/// package to `servers/runtime`).
fn link_with_user_script(rel: &str) {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let script = std::path::Path::new(&dir).join(rel).join("user.ld");
    let script = script.canonicalize().expect("servers/runtime/user.ld exists");
    println!("cargo:rustc-link-arg-bins=-T{}", script.display());
    println!("cargo:rerun-if-changed={}", script.display());
    println!("cargo:rerun-if-changed=build.rs");
}
