//! Loading a program image into a fresh address space: each `PT_LOAD`
//! segment copied page by page into new frames mapped with the segment's
//! own permissions (checked by `kcore::elf`), and the argument string
//! copied to the top of the first thread's stack.

use kcore::elf::ElfImage;
use protocols::layout::{PAGE_SIZE, PROGRAM_BASE, PROGRAM_END, STACK_TOP};
use protocols::syscall::SysError;

use crate::mm::phys_to_virt;
use crate::mm::uspace::{AddressSpace, SpaceError};

/// Where a loaded program starts.
pub struct Entry {
    /// The ELF entry point.
    pub rip: u64,
    /// The initial stack pointer (16-byte aligned, below the arguments).
    pub rsp: u64,
    /// Address of the argument bytes.
    pub args: u64,
    /// Their length.
    pub args_len: u64,
}

fn space_error(err: SpaceError) -> SysError {
    match err {
        SpaceError::NoMemory => SysError::NoMemory,
        SpaceError::BadAddress => SysError::BadProgram,
    }
}

/// Loads `image` into `space` with argument string `args`.
pub fn load(space: &AddressSpace, image: &[u8], args: &[u8]) -> Result<Entry, SysError> {
    let elf = ElfImage::parse(image, PROGRAM_BASE..PROGRAM_END).map_err(|err| {
        crate::kprintln!("program: bad image: {err}");
        SysError::BadProgram
    })?;
    for seg in elf.segments() {
        for fill in seg.pages() {
            let frame = space
                .map_zeroed(fill.page, seg.writable, seg.executable)
                .map_err(space_error)?;
            if fill.len > 0 {
                let src = &image[fill.src..fill.src + fill.len];
                // SAFETY: the frame is new, this space's, mapped in the
                // HHDM; `dst + len` stays inside it (PageFill's promise).
                unsafe {
                    core::ptr::copy_nonoverlapping(
                        src.as_ptr(),
                        (phys_to_virt(frame) + fill.dst as u64) as *mut u8,
                        fill.len,
                    );
                }
            }
        }
    }
    let args_at = STACK_TOP - args.len() as u64;
    let rsp = args_at & !15;
    // Back the stack pages the arguments (and the first frame) occupy.
    let first_page = (rsp - 16) / PAGE_SIZE * PAGE_SIZE;
    for page in (first_page..STACK_TOP).step_by(PAGE_SIZE as usize) {
        space.map_zeroed(page, true, false).map_err(space_error)?;
    }
    space.write(args_at, args).map_err(space_error)?;
    Ok(Entry {
        rip: elf.entry,
        rsp,
        args: args_at,
        args_len: args.len() as u64,
    })
}
