//! Where a source stands: typed positions that a checkpoint stores and a resume seeks to.
//!
//! A file position is the byte offset after the last record of a batch. A live position names
//! the node by the first hash slot it serves (stable across a failover, unlike its address or
//! its node id) and the database by its number (stable when another database gains its first
//! key, unlike an index into the list of databases), with the SCAN cursor and the count of
//! pages read, which orders positions inside one database (a SCAN cursor itself is not
//! monotonic).
//!
//! ```text
//! file <offset>
//! live <first slot | -> <db> <pages> <cursor | end>
//! ```

use std::cmp::Ordering;
use std::fmt;

/// A node of the source: the one server, or a cluster master by the first slot it serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Node {
    Standalone,
    FirstSlot(u16),
}

/// A SCAN cursor, or the end of a database's iteration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cursor {
    At(u64),
    End,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LivePos {
    pub node: Node,
    pub db: u32,
    /// SCAN pages read in this database: the order of positions inside it.
    pub pages: u64,
    pub cursor: Cursor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pos {
    File { offset: u64 },
    Live(LivePos),
}

impl Ord for LivePos {
    fn cmp(&self, other: &Self) -> Ordering {
        let end = |c: Cursor| matches!(c, Cursor::End);
        (self.node, self.db, self.pages, end(self.cursor)).cmp(&(
            other.node,
            other.db,
            other.pages,
            end(other.cursor),
        ))
    }
}

impl PartialOrd for LivePos {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialOrd for Pos {
    /// Positions of different kinds are not ordered: a file and a server are other sources.
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match (self, other) {
            (Pos::File { offset: a }, Pos::File { offset: b }) => Some(a.cmp(b)),
            (Pos::Live(a), Pos::Live(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pos::File { offset } => write!(f, "file {offset}"),
            Pos::Live(p) => {
                match p.node {
                    Node::Standalone => f.write_str("live -")?,
                    Node::FirstSlot(s) => write!(f, "live {s}")?,
                }
                write!(f, " {} {} ", p.db, p.pages)?;
                match p.cursor {
                    Cursor::At(c) => write!(f, "{c}"),
                    Cursor::End => f.write_str("end"),
                }
            }
        }
    }
}

impl std::str::FromStr for Pos {
    type Err = String;

    fn from_str(s: &str) -> Result<Pos, String> {
        let bad = || format!("not a position: {s:?}");
        let parts: Vec<&str> = s.split(' ').collect();
        match parts.as_slice() {
            ["file", off] => Ok(Pos::File {
                offset: off.parse().map_err(|_| bad())?,
            }),
            ["live", node, db, pages, cursor] => Ok(Pos::Live(LivePos {
                node: match *node {
                    "-" => Node::Standalone,
                    n => Node::FirstSlot(n.parse().ok().filter(|&s| s < 16384).ok_or_else(bad)?),
                },
                db: db.parse().map_err(|_| bad())?,
                pages: pages.parse().map_err(|_| bad())?,
                cursor: match *cursor {
                    "end" => Cursor::End,
                    c => Cursor::At(c.parse().map_err(|_| bad())?),
                },
            })),
            _ => Err(bad()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(node: Node, db: u32, pages: u64, cursor: Cursor) -> Pos {
        Pos::Live(LivePos {
            node,
            db,
            pages,
            cursor,
        })
    }

    #[test]
    fn positions_round_trip_through_text() {
        for p in [
            Pos::File { offset: 0 },
            Pos::File { offset: u64::MAX },
            live(Node::Standalone, 0, 1, Cursor::At(1234)),
            live(Node::FirstSlot(5461), 15, 7, Cursor::End),
        ] {
            assert_eq!(p.to_string().parse::<Pos>(), Ok(p));
        }
        for bad in [
            "",
            "file",
            "file -1",
            "live 0 0 0",
            "live 16384 0 0 end",
            "live - x 0 1",
        ] {
            assert!(bad.parse::<Pos>().is_err(), "{bad}");
        }
    }

    #[test]
    fn live_positions_order_by_node_then_db_number_then_pages_not_by_cursor() {
        let a = live(Node::FirstSlot(0), 0, 3, Cursor::At(9_999_999));
        let b = live(Node::FirstSlot(0), 0, 4, Cursor::At(2));
        let c = live(Node::FirstSlot(0), 0, 4, Cursor::End);
        let d = live(Node::FirstSlot(0), 3, 1, Cursor::At(5));
        let e = live(Node::FirstSlot(5461), 0, 1, Cursor::At(1));
        assert!(a < b && b < c && c < d && d < e);
        assert_eq!(Pos::File { offset: 1 }.partial_cmp(&a), None);
    }
}
