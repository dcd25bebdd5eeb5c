//! The boot modules, copied out of the loader's responses (which live in
//! bootloader-reclaimable memory) so that memory can be reclaimed. The
//! modules' bytes stay where the loader put them (kernel-and-modules
//! memory, never reclaimed) and are reached through the HHDM.

use alloc::vec::Vec;

use spin::Once;

/// One boot module.
pub struct BootModule {
    /// Its path, e.g. `/boot/init`.
    pub path: Vec<u8>,
    /// Its command line.
    pub cmdline: Vec<u8>,
    /// Its bytes.
    pub data: &'static [u8],
}

static MODULES: Once<Vec<BootModule>> = Once::new();

/// Copies the module list out of the loader's response.
pub fn capture() {
    MODULES.call_once(|| {
        let Some(files) = crate::requests::modules() else {
            return Vec::new();
        };
        files
            .iter()
            .filter_map(|f| {
                let len = usize::try_from(f.size())
                    .ok()
                    .filter(|&l| l <= isize::MAX as usize)?;
                let addr = f.addr();
                if addr.is_null() {
                    return None;
                }
                // SAFETY: the loader placed the module's `size` bytes at
                // `addr` (HHDM, kernel-and-modules memory, never reclaimed
                // or written) for the life of the kernel.
                let data = unsafe { core::slice::from_raw_parts(addr.cast_const(), len) };
                Some(BootModule {
                    path: f.path().to_bytes().to_vec(),
                    cmdline: f.string().to_bytes().to_vec(),
                    data,
                })
            })
            .collect()
    });
}

/// The module `/boot/<name>`.
pub fn find(name: &[u8]) -> Option<&'static BootModule> {
    MODULES
        .get()?
        .iter()
        .find(|m| m.path.strip_prefix(b"/boot/") == Some(name))
}
