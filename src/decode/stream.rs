//! Streams (types 15, 19, 21): placeholder until the stream decoder lands.

use super::cursor::Cursor;
use super::error::{ErrorKind, Result};

#[derive(Debug)]
pub struct Stream<'a> {
    _payload: core::marker::PhantomData<&'a [u8]>,
}

pub fn read_stream<'a>(c: &mut Cursor<'a>, _version: u8) -> Result<Stream<'a>> {
    Err(c.err(ErrorKind::InvalidStream))
}
