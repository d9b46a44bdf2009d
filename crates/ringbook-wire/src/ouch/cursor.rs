//! Reading and writing big-endian fields: the reader never panics (a read past the end
//! yields zeros, and callers check lengths before reading), the writer appends to a
//! reused buffer.

/// Reads fixed-width fields from the front of a message.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub(crate) fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    /// The next `N` bytes (zeros past the end).
    pub(crate) fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        if let Some(s) = self.buf.get(self.pos..self.pos + N) {
            out.copy_from_slice(s);
        }
        self.pos += N;
        out
    }

    /// One byte.
    pub(crate) fn u8(&mut self) -> u8 {
        self.bytes::<1>()[0]
    }

    /// A big-endian u16.
    pub(crate) fn u16(&mut self) -> u16 {
        u16::from_be_bytes(self.bytes())
    }

    /// A big-endian u32.
    pub(crate) fn u32(&mut self) -> u32 {
        u32::from_be_bytes(self.bytes())
    }

    /// A big-endian u64.
    pub(crate) fn u64(&mut self) -> u64 {
        u64::from_be_bytes(self.bytes())
    }
}

/// Appends big-endian fields.
pub(crate) trait Put {
    fn put_u8(&mut self, v: u8);
    fn put_u16(&mut self, v: u16);
    fn put_u32(&mut self, v: u32);
    fn put_u64(&mut self, v: u64);
    fn put(&mut self, v: &[u8]);
}

impl Put for Vec<u8> {
    fn put_u8(&mut self, v: u8) {
        self.push(v);
    }
    fn put_u16(&mut self, v: u16) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_u32(&mut self, v: u32) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_u64(&mut self, v: u64) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put(&mut self, v: &[u8]) {
        self.extend_from_slice(v);
    }
}

/// The longest fixed part of an outbound message [`Fixed`] holds (Order Replaced's, the
/// longest, is 66 bytes).
pub(crate) const FIXED_MAX: usize = 96;

/// A message's fixed part composed on the stack: each field is a store at an offset,
/// with none of a `Vec`'s capacity checks; the whole part is copied out once.
pub(crate) struct Fixed {
    buf: [u8; FIXED_MAX],
    len: usize,
}

impl Fixed {
    pub(crate) fn new() -> Fixed {
        Fixed {
            buf: [0; FIXED_MAX],
            len: 0,
        }
    }

    /// The bytes written.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    fn put_array<const N: usize>(&mut self, v: [u8; N]) {
        // Every fixed part fits (see FIXED_MAX); a field past it would be dropped, never
        // written out of bounds (the layout tests check every message's bytes).
        if let Some(dst) = self.buf.get_mut(self.len..self.len + N) {
            dst.copy_from_slice(&v);
            self.len += N;
        }
    }
}

impl Put for Fixed {
    fn put_u8(&mut self, v: u8) {
        self.put_array([v]);
    }
    fn put_u16(&mut self, v: u16) {
        self.put_array(v.to_be_bytes());
    }
    fn put_u32(&mut self, v: u32) {
        self.put_array(v.to_be_bytes());
    }
    fn put_u64(&mut self, v: u64) {
        self.put_array(v.to_be_bytes());
    }
    fn put(&mut self, v: &[u8]) {
        if let Some(dst) = self.buf.get_mut(self.len..self.len + v.len()) {
            dst.copy_from_slice(v);
            self.len += v.len();
        }
    }
}
