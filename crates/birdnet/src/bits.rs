//! Addresses as unsigned integers, most significant bit first.
//!
//! Bit 0 of a prefix is the most significant bit of its address, as in BIRD's
//! tries and in RFC 4632 pictures. [`AddrBits`] is implemented for `u32`
//! (IPv4) and `u128` (IPv6) only; it is sealed.

use std::fmt::Debug;
use std::hash::Hash;
use std::ops::{BitAnd, BitOr, BitXor, Not};

mod sealed {
    pub trait Sealed {}
    impl Sealed for u32 {}
    impl Sealed for u128 {}
    impl Sealed for crate::Prefix4 {}
    impl Sealed for crate::Prefix6 {}
}
pub(crate) use sealed::Sealed;

/// The integer form of an address family's addresses (`u32` or `u128`).
pub trait AddrBits:
    Copy
    + Eq
    + Ord
    + Hash
    + Debug
    + Default
    + BitAnd<Output = Self>
    + BitOr<Output = Self>
    + BitXor<Output = Self>
    + Not<Output = Self>
    + Sealed
    + Send
    + Sync
    + 'static
{
    /// Number of bits (32 or 128).
    const BITS: u8;
    /// All bits zero.
    const ZERO: Self;

    /// The netmask of a `len`-bit prefix: `len` one bits followed by zeros.
    /// `len` above [`Self::BITS`] is treated as `BITS`.
    fn mask(len: u8) -> Self;
    /// Bit `i` counted from the most significant (bit 0). `i` must be below `BITS`.
    fn bit(self, i: u8) -> bool;
    /// The value with only bit `i` (from the most significant) set.
    fn single(i: u8) -> Self;
    /// Number of leading zero bits.
    fn lz(self) -> u8;
}

macro_rules! impl_bits {
    ($t:ty, $n:expr) => {
        impl AddrBits for $t {
            const BITS: u8 = $n;
            const ZERO: Self = 0;

            #[inline]
            fn mask(len: u8) -> Self {
                if len == 0 {
                    0
                } else {
                    <$t>::MAX << ($n - len.min($n))
                }
            }
            #[inline]
            fn bit(self, i: u8) -> bool {
                (self >> ($n - 1 - i)) & 1 == 1
            }
            #[inline]
            fn single(i: u8) -> Self {
                1 << ($n - 1 - i)
            }
            #[inline]
            fn lz(self) -> u8 {
                self.leading_zeros() as u8
            }
        }
    };
}
impl_bits!(u32, 32);
impl_bits!(u128, 128);

/// Length of the longest common prefix of `(a, alen)` and `(b, blen)`.
#[inline]
pub(crate) fn common_len<B: AddrBits>(a: B, alen: u8, b: B, blen: u8) -> u8 {
    (a ^ b).lz().min(alen).min(blen)
}
