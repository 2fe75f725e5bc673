//! Redis's key patterns (`stringmatchlen`), for filtering the keys of an RDB file as `SCAN
//! MATCH` filters a server's.

/// Redis's glob (`stringmatchlen`): `*`, `?`, `[...]` with ranges and `^`, `\` escapes.
pub fn glob_match(pattern: &[u8], s: &[u8]) -> bool {
    fn m(p: &[u8], s: &[u8]) -> bool {
        let (mut pi, mut si) = (0, 0);
        let (mut star_p, mut star_s) = (usize::MAX, 0);
        while si < s.len() {
            if pi < p.len() {
                match p[pi] {
                    b'*' => {
                        star_p = pi;
                        star_s = si;
                        pi += 1;
                        continue;
                    }
                    b'?' => {
                        pi += 1;
                        si += 1;
                        continue;
                    }
                    b'[' => {
                        if let Some((matched, next)) = class(p, pi, s[si]) {
                            if matched {
                                pi = next;
                                si += 1;
                                continue;
                            }
                        }
                    }
                    b'\\' if pi + 1 < p.len() && p[pi + 1] == s[si] => {
                        pi += 2;
                        si += 1;
                        continue;
                    }
                    b'\\' if pi + 1 < p.len() => {}
                    c if c == s[si] => {
                        pi += 1;
                        si += 1;
                        continue;
                    }
                    _ => {}
                }
            }
            if star_p == usize::MAX {
                return false;
            }
            pi = star_p + 1;
            star_s += 1;
            si = star_s;
        }
        p[pi..].iter().all(|&c| c == b'*')
    }
    /// A `[...]` class at `p[i]`: whether `c` matches, and where the pattern continues.
    fn class(p: &[u8], i: usize, c: u8) -> Option<(bool, usize)> {
        let mut j = i + 1;
        let negate = p.get(j) == Some(&b'^');
        if negate {
            j += 1;
        }
        let mut matched = false;
        while j < p.len() && p[j] != b']' {
            if p[j] == b'\\' && j + 1 < p.len() {
                matched |= p[j + 1] == c;
                j += 2;
            } else if j + 2 < p.len() && p[j + 1] == b'-' && p[j + 2] != b']' {
                let (a, b) = (p[j].min(p[j + 2]), p[j].max(p[j + 2]));
                matched |= (a..=b).contains(&c);
                j += 3;
            } else {
                matched |= p[j] == c;
                j += 1;
            }
        }
        (j < p.len()).then_some((matched != negate, j + 1))
    }
    m(pattern, s)
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs_like_redis() {
        for (p, s, want) in [
            ("*", "", true),
            ("user:*", "user:1", true),
            ("user:*", "usr:1", false),
            ("h?llo", "hello", true),
            ("h[ae]llo", "hallo", true),
            ("h[^e]llo", "hello", false),
            ("h[a-c]llo", "hbllo", true),
            ("a\\*b", "a*b", true),
            ("a\\*b", "axb", false),
            ("*:*:end", "a:b:c:end", true),
        ] {
            assert_eq!(glob_match(p.as_bytes(), s.as_bytes()), want, "{p} {s}");
        }
    }
}
