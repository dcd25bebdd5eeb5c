//! Links `init` with the shared user linker script (`servers/runtime/user.ld`).

include!("../servers/runtime/link.rs");

fn main() {
    link_with_user_script("../servers/runtime");
}
