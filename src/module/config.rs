//! The module's configs: one table, read and written three ways.
//!
//! - As `MODULE LOAD` / `--loadmodule` arguments, on every host: `field-ttl-policy persist` or
//!   `restore.field-ttl-policy persist` (a bad name or value refuses the load).
//! - As server configs (`CONFIG GET/SET restore.*`, `CONFIG REWRITE`, `MODULE LOADEX … CONFIG`)
//!   where the server has the module config API (Redis 7.0+, Valkey 7.2+).
//! - With `RESTORE.CONFIG GET pattern` / `RESTORE.CONFIG SET name value`, on every host: the
//!   run-time means on Redis 6.x, which has no module configs (see `restore_config_command`).
//!
//! Each value is an atomic: the command filter reads `restore.intercept` for every command.

use std::os::raw::c_int;
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};

use super::ffi::{self, Ctx, EnumSetting, RString};

/// One enum config: its name without the `restore.` prefix, its values in order, the current
/// value as an index into them.
pub struct EnumConfig {
    pub name: &'static str,
    pub options: &'static [&'static str],
    value: AtomicU8,
}

impl EnumConfig {
    const fn new(name: &'static str, options: &'static [&'static str]) -> EnumConfig {
        EnumConfig {
            name,
            options,
            value: AtomicU8::new(0),
        }
    }

    pub fn get_name(&self) -> &'static str {
        self.options
            .get(usize::from(self.get()))
            .copied()
            .unwrap_or("")
    }

    /// Sets the value by name (ASCII case-insensitive, as `CONFIG SET` matches enum values).
    pub fn set_by_name(&self, value: &[u8]) -> Result<(), String> {
        match self
            .options
            .iter()
            .position(|o| o.as_bytes().eq_ignore_ascii_case(value))
        {
            Some(i) => {
                self.value.store(i as u8, Relaxed);
                Ok(())
            }
            None => Err(format!(
                "argument(s) must be one of the following: {}",
                self.options.join(", ")
            )),
        }
    }

    /// Whether `name` (with or without the `restore.` prefix) names this config.
    pub fn is_named(&self, name: &[u8]) -> bool {
        let short = name.strip_prefix(b"restore.").unwrap_or(name);
        short.eq_ignore_ascii_case(self.name.as_bytes())
    }
}

/// The value by index: what the server's config callbacks (`CONFIG GET/SET restore.*`) and
/// `RESTORE.CONFIG SET` read and write.
impl EnumSetting for EnumConfig {
    fn name(&self) -> &'static str {
        self.name
    }

    fn options(&self) -> &'static [&'static str] {
        self.options
    }

    fn get(&self) -> u8 {
        self.value.load(Relaxed)
    }

    fn set(&self, index: i64) -> bool {
        match u8::try_from(index) {
            Ok(i) if usize::from(i) < self.options.len() => {
                self.value.store(i, Relaxed);
                true
            }
            _ => false,
        }
    }
}

/// `restore.field-ttl-policy`: what to do with hash field TTLs on a server that has none
/// (Redis < 7.4, Valkey < 9). `reject` refuses the payload with an error naming this config;
/// `persist` restores the live fields without their TTLs.
pub static FIELD_TTL_POLICY: EnumConfig =
    EnumConfig::new("field-ttl-policy", &["reject", "persist"]);

/// `restore.intercept`: which client `RESTORE` / `RESTORE-ASKING` commands the command filter
/// routes to `RESTORE.ASKING`: none (`off`), only payloads this server's own RESTORE would
/// refuse (`newer`: newer RDB version, unknown type), or all of them (`all`).
pub static INTERCEPT: EnumConfig = EnumConfig::new("intercept", &["off", "newer", "all"]);

/// `restore.handover`: whether the command filter hands a client's `RESTORE.ASKING` to the
/// built-in `RESTORE` once the module has validated its payload (`handover.rs`): `on`, or `off`
/// (every call runs the module's handler; for ACL setups that allow `restore.asking` but not
/// `restore`).
pub static HANDOVER: EnumConfig = EnumConfig::new("handover", &["on", "off"]);

/// Every config, in the order `RESTORE.CONFIG GET *` lists them.
pub static ALL: [&EnumConfig; 3] = [&FIELD_TTL_POLICY, &INTERCEPT, &HANDOVER];

/// The value of `restore.field-ttl-policy` (named as the config's values are).
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldTtlPolicy {
    reject,
    persist,
}

pub fn field_ttl_policy() -> FieldTtlPolicy {
    if FIELD_TTL_POLICY.get() == 1 {
        FieldTtlPolicy::persist
    } else {
        FieldTtlPolicy::reject
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterceptMode {
    Off,
    Newer,
    All,
}

pub fn intercept_mode() -> InterceptMode {
    match INTERCEPT.get() {
        1 => InterceptMode::Newer,
        2 => InterceptMode::All,
        _ => InterceptMode::Off,
    }
}

pub fn handover_enabled() -> bool {
    HANDOVER.get() == 0
}

/// The config `name` names (with or without `restore.`), if any.
pub fn find(name: &[u8]) -> Option<&'static EnumConfig> {
    ALL.iter().copied().find(|c| c.is_named(name))
}

/// Applies load arguments: `name value` pairs, names with or without `restore.`. Returns the
/// message for the log when one is not a config or its value is not one of the config's.
pub fn apply_load_args(args: &[&[u8]]) -> Result<(), String> {
    if !args.len().is_multiple_of(2) {
        return Err("load arguments come in pairs: NAME VALUE".into());
    }
    for pair in args.chunks(2) {
        let (name, value) = (pair[0], pair[1]);
        let Some(config) = find(name) else {
            return Err(format!(
                "unknown load argument '{}' (configs: restore.field-ttl-policy, restore.intercept, restore.handover)",
                String::from_utf8_lossy(name)
            ));
        };
        config
            .set_by_name(value)
            .map_err(|e| format!("load argument {}: {e}", String::from_utf8_lossy(name)))?;
    }
    Ok(())
}

/// Glob match as `CONFIG GET` does it (`*`, `?`; no classes), ASCII case-insensitive.
pub fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|i| glob_match(rest, &text[i..])),
        Some((b'?', rest)) => !text.is_empty() && glob_match(rest, &text[1..]),
        Some((c, rest)) => {
            text.first().is_some_and(|t| t.eq_ignore_ascii_case(c)) && glob_match(rest, &text[1..])
        }
    }
}

/// `RESTORE.CONFIG GET pattern` (name/value pairs, as `CONFIG GET`) and
/// `RESTORE.CONFIG SET name value [name value ...]` (all or nothing, as `CONFIG SET`): the
/// module's configs at run time on every host, and the only way on Redis 6.x, which has no
/// module configs. Not persisted: `CONFIG REWRITE` (7.0+) or the load arguments do that.
pub extern "C" fn restore_config_command(ctx: Ctx, argv: *mut RString, argc: c_int) -> c_int {
    ffi::with_command_args(argv, argc, |args| {
        let words: Vec<&[u8]> = args.iter().map(ffi::Arg::bytes).collect();
        match words.get(1).map(|w| w.to_ascii_uppercase()).as_deref() {
            Some(b"GET") if words.len() == 3 => {
                let matching: Vec<&EnumConfig> = ALL
                    .iter()
                    .copied()
                    .filter(|c| glob_match(words[2], format!("restore.{}", c.name).as_bytes()))
                    .collect();
                ffi::reply_map(ctx, matching.len());
                for c in matching {
                    ffi::reply_bulk(ctx, format!("restore.{}", c.name).as_bytes());
                    ffi::reply_bulk(ctx, c.get_name().as_bytes());
                }
            }
            Some(b"SET") if words.len() >= 4 && words.len().is_multiple_of(2) => match set_all(&words[2..]) {
                Ok(()) => ffi::reply_ok(ctx),
                Err(e) => ffi::reply_error(ctx, &e),
            },
            _ => ffi::reply_error(
                ctx,
                "ERR wrong number of arguments: RESTORE.CONFIG GET pattern | RESTORE.CONFIG SET name value [name value ...]",
            ),
        }
    });
    ffi::HANDLER_OK
}

/// Sets every `name value` pair, or none of them (the first bad one is the error).
fn set_all(pairs: &[&[u8]]) -> Result<(), String> {
    let mut planned = Vec::with_capacity(pairs.len() / 2);
    for pair in pairs.chunks(2) {
        let (name, value) = (pair[0], pair[1]);
        let shown = String::from_utf8_lossy(name);
        let Some(c) = find(name) else {
            return Err(format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{shown}'"
            ));
        };
        let Some(i) = c
            .options
            .iter()
            .position(|o| o.as_bytes().eq_ignore_ascii_case(value))
        else {
            return Err(format!(
                "ERR CONFIG SET failed (possibly related to argument '{shown}') - argument(s) must be one of the following: {}",
                c.options.join(", ")
            ));
        };
        planned.push((c, i as i64));
    }
    for (c, i) in planned {
        c.set(i);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_arguments_take_both_name_forms_and_refuse_bad_values() {
        let c = EnumConfig::new("intercept", &["off", "newer", "all"]);
        assert!(c.is_named(b"restore.intercept") && c.is_named(b"INTERCEPT"));
        assert!(c.set_by_name(b"ALL").is_ok());
        assert_eq!(c.get_name(), "all");
        assert!(c
            .set_by_name(b"sometimes")
            .unwrap_err()
            .contains("off, newer, all"));
        assert_eq!(c.get_name(), "all");
        assert!(!c.set(3) && c.set(1) && c.get_name() == "newer");
        assert!(apply_load_args(&[b"restore.bogus", b"x"]).is_err());
        assert!(apply_load_args(&[b"intercept"]).is_err());
    }

    #[test]
    fn glob() {
        assert!(glob_match(b"restore.*", b"restore.intercept"));
        assert!(glob_match(b"*TTL*", b"restore.field-ttl-policy"));
        assert!(glob_match(b"restore.intercep?", b"restore.intercept"));
        assert!(!glob_match(b"restore.x*", b"restore.intercept"));
    }
}
