//! A small bit-set macro for the flag words of the on-media formats
//! ([`crate::object::Perms`], [`crate::object::ObjFlags`],
//! [`crate::fot::FotFlags`], [`crate::cap::CapFlags`]).
//!
//! `protocols` has no dependencies, so instead of `bitflags` each flag word
//! is a transparent newtype with named constants, set operations and a
//! *checked* decoder: a word with a bit this version does not define is an
//! error, never silently kept or dropped.

/// Declares a flag word: `bitset! { /// doc  pub struct Name(u32) { /// doc  A = 1, … } }`.
macro_rules! bitset {
    (
        $(#[$meta:meta])*
        pub struct $name:ident($ty:ty) {
            $( $(#[$fdoc:meta])* $flag:ident = $value:expr, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
        #[repr(transparent)]
        pub struct $name($ty);

        impl $name {
            $( $(#[$fdoc])* pub const $flag: $name = $name($value); )*
            /// No flag set.
            pub const EMPTY: $name = $name(0);
            /// Every flag this version defines.
            pub const ALL: $name = $name(0 $(| $value)*);

            /// The raw word.
            pub const fn bits(self) -> $ty {
                self.0
            }
            /// Decodes a raw word; `None` if it has a bit this version does
            /// not define.
            pub const fn from_bits(bits: $ty) -> Option<$name> {
                if bits & !Self::ALL.0 == 0 { Some($name(bits)) } else { None }
            }
            /// Keeps only the defined bits of `bits`.
            pub const fn from_bits_truncate(bits: $ty) -> $name {
                $name(bits & Self::ALL.0)
            }
            /// Whether every flag of `other` is set in `self`.
            pub const fn contains(self, other: $name) -> bool {
                self.0 & other.0 == other.0
            }
            /// Whether no flag is set.
            pub const fn is_empty(self) -> bool {
                self.0 == 0
            }
            /// Flags set in either.
            pub const fn union(self, other: $name) -> $name {
                $name(self.0 | other.0)
            }
            /// Flags set in both.
            pub const fn intersection(self, other: $name) -> $name {
                $name(self.0 & other.0)
            }
            /// Flags of `self` not in `other`.
            pub const fn difference(self, other: $name) -> $name {
                $name(self.0 & !other.0)
            }
            /// Whether `self` grants nothing beyond `other`.
            pub const fn is_subset_of(self, other: $name) -> bool {
                other.contains(self)
            }
        }

        impl core::ops::BitOr for $name {
            type Output = $name;
            fn bitor(self, rhs: $name) -> $name {
                self.union(rhs)
            }
        }

        impl core::ops::BitAnd for $name {
            type Output = $name;
            fn bitand(self, rhs: $name) -> $name {
                self.intersection(rhs)
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, "{}(", stringify!($name))?;
                let mut first = true;
                $(
                    if $value != 0 && self.contains($name::$flag) {
                        if !first { f.write_str("|")?; }
                        f.write_str(stringify!($flag))?;
                        first = false;
                    }
                )*
                let _ = first;
                f.write_str(")")
            }
        }
    };
}
