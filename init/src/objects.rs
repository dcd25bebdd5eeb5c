//! The shell's object services, through system calls: objects the shell
//! created or named are mapped RW into scratch slots once; contexts it
//! created are attached to it and mapped so capabilities can be appended.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use objects::setup::{self, RW};
use protocols::kso::CtxFlags;
use protocols::object::{BASE_OFFSET, ObjFlags, ObjId, ObjInfo, Perms};
use protocols::syscall::SysError;
use runtime::sys;

/// What the shell remembers about objects.
#[derive(Default)]
pub struct Objects {
    /// IDs printed so far.
    known: Vec<ObjId>,
    /// Mapped objects: ID → slot base.
    mapped: BTreeMap<ObjId, usize>,
    /// Attached contexts it created: ID → (base, capability count).
    ctxs: BTreeMap<ObjId, (usize, u32)>,
}

impl Objects {
    /// Remembers an ID the shell printed.
    pub fn learn(&mut self, id: ObjId) {
        if !self.known.contains(&id) {
            self.known.push(id);
        }
    }

    fn base(&mut self, id: ObjId) -> Result<usize, SysError> {
        if let Some(&b) = self.mapped.get(&id) {
            return Ok(b);
        }
        let b = setup::map(id, RW)? as usize;
        self.mapped.insert(id, b);
        Ok(b)
    }

    /// The address of the word at `offset` from `id`'s base, if some
    /// attached context allows `need` there (else the access would end the
    /// shell with a security fault).
    fn word(&mut self, id: ObjId, offset: u64, need: Perms) -> Result<*mut u64, SysError> {
        let info = sys::obj_info(id)?;
        if !offset.is_multiple_of(8) || offset.checked_add(8).is_none_or(|end| end > info.size) {
            return Err(SysError::InvalidArgument);
        }
        let allowed = core::iter::once(ObjId::NIL)
            .chain(self.ctxs.keys().copied())
            .any(|c| sys::ctx_check(c, id).is_ok_and(|p| need.is_subset_of(p & RW)));
        if !allowed {
            return Err(SysError::PermissionDenied);
        }
        Ok((self.base(id)? + (BASE_OFFSET + offset) as usize) as *mut u64)
    }

    pub fn obj_create(&mut self, size: u64, perms: Perms, key: ObjId) -> Result<ObjId, SysError> {
        let id = sys::obj_create(size, ObjFlags::EMPTY, perms, key)?;
        self.learn(id);
        Ok(id)
    }

    pub fn obj_info(&mut self, id: ObjId) -> Result<ObjInfo, SysError> {
        let info = sys::obj_info(id)?;
        self.learn(id);
        Ok(info)
    }

    pub fn obj_read(&mut self, id: ObjId, offset: u64) -> Result<u64, SysError> {
        let p = self.word(id, offset, Perms::READ)?;
        // SAFETY: mapped RW, inside the data area, aligned; some attached
        // context allows reading, so the kernel maps it (switching context
        // if the active one does not) instead of ending the shell.
        Ok(unsafe { p.read_volatile() })
    }

    pub fn obj_write(&mut self, id: ObjId, offset: u64, value: u64) -> Result<(), SysError> {
        let p = self.word(id, offset, Perms::WRITE)?;
        // SAFETY: as in `obj_read`, for writing.
        unsafe { p.write_volatile(value) };
        Ok(())
    }

    pub fn key_new(&mut self) -> Result<(ObjId, ObjId), SysError> {
        let keys = setup::new_keys()?;
        self.learn(keys.public);
        self.learn(keys.private);
        Ok((keys.public, keys.private))
    }

    pub fn ctx_new(&mut self) -> Result<ObjId, SysError> {
        let (id, base) = setup::new_ctx(CtxFlags::EMPTY, Perms::ALL)?;
        sys::ctx_attach(id)?;
        self.ctxs.insert(id, (base as usize, 0));
        self.learn(id);
        Ok(id)
    }

    pub fn ctx_list(&mut self) -> Result<(ObjId, Vec<ObjId>), SysError> {
        Ok((sys::ctx_current()?, self.ctxs.keys().copied().collect()))
    }

    pub fn cap_add(
        &mut self,
        key: ObjId,
        target: ObjId,
        ctx: ObjId,
        perms: Perms,
    ) -> Result<u32, SysError> {
        let &(base, count) = self.ctxs.get(&ctx).ok_or(SysError::NotFound)?;
        let secret = setup::read_private_key(key)?;
        let g = setup::grant(target, ctx, perms);
        // SAFETY: `base` is the context's RW mapping from `ctx_new`.
        unsafe { setup::add_cap_with(base as *mut u8, count, &secret, &g)? };
        self.ctxs.insert(ctx, (base, count + 1));
        Ok(count)
    }

    pub fn known(&self) -> Vec<ObjId> {
        self.known.clone()
    }
}
