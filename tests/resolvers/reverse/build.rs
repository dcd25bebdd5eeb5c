//! Links this crate's server program with the shared user linker script
//! (`servers/runtime/user.ld`); libraries and host tests are unaffected.

include!("../../../servers/runtime/link.rs");

fn main() {
    link_with_user_script("../../../servers/runtime");
}
