//! The words of a stream command, as the translation table and its equivalents read them, and
//! what a command becomes (`Action`).

/// What the stream's control commands do (handled by the applier, not sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    Select(u32),
    Multi,
    Exec,
    /// `PING`, `REPLCONF ACK`...: consumed.
    Nothing,
    /// `REPLCONF GETACK`: answer with an ACK.
    GetAck,
}

/// What one command of the stream becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Control(Control),
    /// These commands, in order (one, usually).
    Send(Vec<Vec<Vec<u8>>>),
    /// Nothing to send, counted under this name in the summary.
    Dropped(&'static str),
    /// The sync stops: why (the caller adds the command, key and offset).
    Refuse(String),
}

/// Whether `arg` is `word`, in any case.
pub fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

/// `arg` as an integer, where it is one.
pub fn int(arg: Option<&Vec<u8>>) -> Option<i64> {
    std::str::from_utf8(arg?).ok()?.parse().ok()
}

/// The command's name as the user typed it, for messages.
pub fn name(argv: &[Vec<u8>]) -> String {
    String::from_utf8_lossy(argv.first().map_or(&[][..], |a| a)).to_uppercase()
}
