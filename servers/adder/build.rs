//! Links `adder` with the shared user linker script (`servers/runtime/user.ld`).

include!("../runtime/link.rs");

fn main() {
    link_with_user_script("../runtime");
}
