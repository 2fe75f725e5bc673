//! Inputs the fuzzers found, one test each, named after what broke.

use restore_core::decode::value::Value;
use restore_core::decode::{decode, DecodeError};
use restore_core::encode::finish_payload;

/// Found by the `object` fuzz target (invariant "Redis field TTLs are 1..=2^48-1; 0 is none").
/// Type 24 stores `ttl` relative to `minExpire`: expiry = `ttl + minExpire - 1`, and native
/// (rdb.c, `RDB_TYPE_HASH_METADATA`) creates the field *without* a TTL when that sum is 0, which
/// it is for `minExpire = 0, ttl = 1`. Old failure: the decoder reported `Some(0)` (expire at the
/// epoch), so the module dropped a field that native RESTORE keeps forever. Either reading it as
/// no TTL or rejecting the payload (no genuine writer produces it) is fine; an expiry of 0 is not.
#[test]
fn hash_metadata_relative_ttl_summing_to_zero_is_not_an_expiry_at_the_epoch() {
    let object = [
        24, // RDB_TYPE_HASH_METADATA
        0, 0, 0, 0, 0, 0, 0, 0, // minExpire = 0 (MS, i64 LE)
        1, // one field
        1, // ttl = 1: expiry = 1 + 0 - 1 = 0
        1, b'f', // field "f"
        1, b'v', // value "v"
    ];
    let payload = finish_payload(object.to_vec(), 12);
    let Ok(decoded) = decode(&payload) else {
        return;
    };
    let Value::Hash(hash) = &decoded.value else {
        panic!("not a hash: {:?}", decoded.value)
    };
    hash.for_each(|_, _, ttl| {
        assert_eq!(ttl, None, "native keeps this field without a TTL");
        Ok::<_, DecodeError>(())
    })
    .unwrap();
}

/// Issue 19, found by comparing `DEBUG DIGEST-VALUE` after RESTORE and RESTORE.ASKING: a Redis
/// 3.2–6.2 ziplist zset holding a `-0` score (written as the text `"-0"`) came back through
/// RESTORE.ASKING with `ZSCORE` `0` on 7.0+, where native RESTORE keeps `-0`. The decoder read
/// `-0` right; the module's `ZsetAdd`, like ZADD, stores any integral score as a listpack
/// integer. Old failure: nothing told the writer the value holds a score only the server's
/// loader keeps. Now the score comes out with its sign and the value says `negative_zero`.
#[test]
fn negative_zero_score_of_a_ziplist_zset_came_back_as_zero() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors");
    let payload = std::fs::read(dir.join("redis-5.0.14/zset_small_special.dump")).unwrap();
    let decoded = decode(&payload).unwrap();
    let Value::SortedSet(zset) = &decoded.value else {
        panic!("not a zset: {:?}", decoded.value)
    };
    assert!(zset.negative_zero);
    let mut signs = Vec::new();
    zset.for_each(|m, s| {
        if s == 0.0 {
            let mut buf = [0; 20];
            signs.push((m.bytes(&mut buf).to_vec(), s.is_sign_negative()));
        }
        Ok::<_, DecodeError>(())
    })
    .unwrap();
    signs.sort();
    assert_eq!(signs, [(b"nKy".to_vec(), true), (b"of6".to_vec(), false)]);

    // The same case written by 7.0: its listpack holds the integer 0 (ZADD of -0 on 7.0+).
    let payload = std::fs::read(dir.join("redis-7.0.15/zset_small_special.dump")).unwrap();
    let Value::SortedSet(zset) = decode(&payload).unwrap().value else {
        panic!("not a zset")
    };
    assert!(!zset.negative_zero);
}

/// `negative_zero` in every zset layout: text doubles (3), binary doubles (5), listpack (17,
/// a `"-0"` text entry, which a 7.0+ server dumps for a zset it loaded from a ziplist).
#[test]
fn negative_zero_is_flagged_in_every_zset_layout() {
    use restore_core::encode::{put_len, put_string};
    let flagged = |object: Vec<u8>, version: u16| -> bool {
        match decode(&finish_payload(object.to_vec(), version))
            .unwrap()
            .value
        {
            Value::SortedSet(z) => z.negative_zero,
            v => panic!("not a zset: {v:?}"),
        }
    };
    let text = |score: &[u8]| {
        let mut o = vec![3]; // RDB_TYPE_ZSET
        put_len(&mut o, 1);
        put_string(&mut o, b"m");
        o.push(score.len() as u8); // text double: length, then the text
        o.extend_from_slice(score);
        o
    };
    assert!(flagged(text(b"-0"), 6));
    assert!(!flagged(text(b"0"), 6));
    let binary = |score: f64| {
        let mut o = vec![5]; // RDB_TYPE_ZSET_2
        put_len(&mut o, 1);
        put_string(&mut o, b"m");
        o.extend_from_slice(&score.to_le_bytes());
        o
    };
    assert!(flagged(binary(-0.0), 9));
    assert!(!flagged(binary(0.0), 9));
    assert!(!flagged(binary(-f64::from_bits(1)), 9));
    let listpack = |score: &[u8]| {
        let mut lp = vec![0, 0, 0, 0]; // total bytes (u32 LE), set below
        lp.extend_from_slice(&2u16.to_le_bytes()); // two entries
        lp.extend_from_slice(&[0x81, b'm', 2]); // 6-bit string "m", backlen 2
        lp.push(0x80 | score.len() as u8); // 6-bit string: the score text
        lp.extend_from_slice(score);
        lp.push(1 + score.len() as u8); // backlen
        lp.push(0xff); // end
        let total = lp.len() as u32;
        lp[..4].copy_from_slice(&total.to_le_bytes());
        let mut o = vec![17]; // RDB_TYPE_ZSET_LISTPACK
        put_string(&mut o, &lp);
        o
    };
    assert!(flagged(listpack(b"-0"), 11));
    assert!(flagged(listpack(b"-0.0"), 11));
    assert!(!flagged(listpack(b"0.0"), 11));
}
