//! [`strerror`]: what an `errno` is called and what it means, for
//! messages like `cat: /x: ENOENT (no such file or directory)`.

use protocols::posix::Errno;

/// The name of an `errno` and what it means (`strerror`).
pub fn strerror(e: Errno) -> (&'static str, &'static str) {
    match e {
        Errno::EPERM => ("EPERM", "operation not permitted"),
        Errno::ENOENT => ("ENOENT", "no such file or directory"),
        Errno::EIO => ("EIO", "input/output error"),
        Errno::EBADF => ("EBADF", "bad file descriptor"),
        Errno::ENOMEM => ("ENOMEM", "out of memory"),
        Errno::EACCES => ("EACCES", "permission denied"),
        Errno::EBUSY => ("EBUSY", "device or resource busy"),
        Errno::EEXIST => ("EEXIST", "file exists"),
        Errno::EXDEV => ("EXDEV", "invalid cross-device link"),
        Errno::ENOTDIR => ("ENOTDIR", "not a directory"),
        Errno::EISDIR => ("EISDIR", "is a directory"),
        Errno::EINVAL => ("EINVAL", "invalid argument"),
        Errno::EMFILE => ("EMFILE", "too many open files"),
        Errno::EFBIG => ("EFBIG", "file too large"),
        Errno::ENOSPC => ("ENOSPC", "no space left on device"),
        Errno::ENAMETOOLONG => ("ENAMETOOLONG", "file name too long"),
        Errno::ENOSYS => ("ENOSYS", "function not implemented"),
        Errno::ENOTEMPTY => ("ENOTEMPTY", "directory not empty"),
        Errno::EOVERFLOW => ("EOVERFLOW", "value too large for defined data type"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_variants() {
        for e in [
            Errno::ENOENT,
            Errno::EEXIST,
            Errno::ENOTEMPTY,
            Errno::EOVERFLOW,
        ] {
            assert_eq!(strerror(e).0, std::format!("{e:?}"));
        }
        assert_eq!(strerror(Errno::EISDIR).1, "is a directory");
    }
}
