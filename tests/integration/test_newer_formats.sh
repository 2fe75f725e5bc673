#!/usr/bin/env bash
# Redis 8.6-8.10 formats no server here reads, on every host (hand-made payloads from
# newer_payloads.py; the valid ones are also vectors in tests/vectors/handmade-redis-8.6-8.10,
# which test_vectors restores and reads back):
#   - the host's own RESTORE refuses them all (footer 13-15 is newer than any host here);
#   - template hashes (29, 31) restore as plain hashes, also through an intercepted RESTORE;
#   - key metadata (opcode 243): classes marked ALLOW_IGNORE are dropped and the key restored;
#     any other class gets an error naming it (never "Bad data format"), and nothing is written;
#   - arrays (28): an error saying the server has no array type, nothing written, and under
#     REPLACE the old value stays;
#   - file-only template references (30, 32) and a 243 block under a Valkey footer: Bad data
#     format, as native answers;
#   - Valkey 9.2 path hashes (23 under footer 81; path_hash_payloads.py, vectors in
#     tests/vectors/handmade-valkey-9.2 and tests/vectors/corrupt/handmade-valkey-9.2__*): the
#     valid ones get an error naming the type, the paths and the fields, nothing written, and under
#     REPLACE the old value stays, through an intercepted RESTORE too; the corrupt ones (empty
#     field map, repeated path or field, counts that do not match, footer 80) Bad data format;
#   - RESTORE.INSPECT describes all of them.

. "$(dirname "$0")/lib.sh"

is_native_run && { echo "[$TEST_NAME] module-only test; skipped in a native run"; finish; exit; }

P=$WORK/payloads
mkdir -p "$P"
GEN=$IT_DIR/newer_payloads.py
VEC=$REPO_ROOT/tests/vectors/handmade-redis-8.6-8.10
ERR_BAD='(error) ERR Bad data format'
ERR_VERSION='(error) ERR DUMP payload version or checksum are wrong'
for name in array array-insert-index meta-strict meta-strict-list template-ref-30 template-ref-32 meta-on-valkey; do
  python3 "$GEN" "$name" >"$P/$name.dump" || die "newer_payloads.py $name"
done

start_server main
HOST=$(host_label)
echo "[$TEST_NAME] $HOST"

# The committed vectors are what the generator writes today.
python3 "$GEN" vectors "$WORK/regen"
assert_eq "vectors match newer_payloads.py" "" "$(diff -r "$VEC" "$WORK/regen" 2>&1)"

echo "[$TEST_NAME] the host's RESTORE refuses every one; the module restores the valid ones"
for f in "$VEC"/*.dump; do
  c=$(basename "$f" .dump)
  assert_eq "$c: native RESTORE refuses it" "$ERR_VERSION" "$(r_file "$f" RESTORE "n:$c" 0 @P@)"
  assert_eq "$c: RESTORE.ASKING" OK "$(r_file "$f" RESTORE.ASKING "m:$c" 0 @P@)"
done
assert_eq "template 29: fields" "$(printf '%s\n' 42 ada@example.com 1001 Ada)" \
  "$(r --raw HMGET m:hash_template_lp_lp age email id name)"
assert_eq "template 31 (40 fields): HLEN" 40 "$(r_int HLEN m:hash_template_raw_array)"
assert_eq "template 29, integer names: HGET 10" ten "$(r --raw HGET m:hash_template_int_names 10)"
assert_eq "ignorable metadata: the string" hello "$(r --raw GET m:string_key_meta_ignorable)"
assert_eq "ignorable metadata: the list" "$(printf '%s\n' a b 3)" "$(r --raw LRANGE m:list_key_meta_two_classes 0 -1)"
assert_eq "template + metadata, with a TTL" OK \
  "$(r_file "$VEC/hash_template_key_meta.dump" RESTORE.ASKING ttl:tmpl 60000 @P@)"
assert_between "template + metadata: PTTL" 1 60000 "$(r_int PTTL ttl:tmpl)"

echo "[$TEST_NAME] an intercepted RESTORE (restore.intercept newer) takes a template hash"
cfg_set restore.intercept newer >/dev/null
assert_eq "intercepted RESTORE" OK "$(r_file "$VEC/hash_template_lp_array.dump" RESTORE i:tmpl 0 @P@)"
assert_eq "intercepted: HGET" Ada "$(r --raw HGET i:tmpl name)"
cfg_set restore.intercept off >/dev/null

echo "[$TEST_NAME] what this server cannot hold: a specific error, nothing written"
r SET old keep >/dev/null
for name in array array-insert-index; do
  out=$(r_file "$P/$name.dump" RESTORE.ASKING a:$name 0 @P@)
  assert_match "$name: error says there is no array type" '^\(error\) ERR this server has no array type \(Redis 8\.8\+, RDB type 28\)' "$out"
  assert_eq "$name: no key" 0 "$(r_int EXISTS a:$name)"
  assert_match "$name under REPLACE: the same error" 'no array type' "$(r_file "$P/$name.dump" RESTORE.ASKING old 0 @P@ REPLACE)"
  assert_eq "$name under REPLACE: the old value stays" keep "$(r --raw GET old)"
done
assert_match "array: the element count is named" 'an array of 4 elements$' \
  "$(r_file "$P/array.dump" RESTORE.ASKING a 0 @P@)"
for name in meta-strict meta-strict-list; do
  out=$(r_file "$P/$name.dump" RESTORE.ASKING k:$name 0 @P@)
  assert_eq "$name: error names the class" \
    "(error) ERR key metadata class 'META-Ownr' (version 3, Redis 8.6+) cannot be attached on this server and is not marked ignorable" "$out"
  assert_eq "$name: no key" 0 "$(r_int EXISTS k:$name)"
  r_file "$P/$name.dump" RESTORE.ASKING old 0 @P@ REPLACE >/dev/null
  assert_eq "$name under REPLACE: the old value stays" keep "$(r --raw GET old)"
done
for name in template-ref-30 template-ref-32 meta-on-valkey; do
  assert_eq "$name: Bad data format" "$ERR_BAD" "$(r_file "$P/$name.dump" RESTORE.ASKING b:$name 0 @P@)"
  assert_eq "$name: no key" 0 "$(r_int EXISTS b:$name)"
done
assert_eq "unsupported counted apart from bad data (5 arrays, 4 strict metadata)" 9 "$(info_field restore restore_errors_unsupported)"

echo "[$TEST_NAME] RESTORE.INSPECT"
inspect() { r_file "$1" --raw RESTORE.INSPECT @P@ | paste -sd' '; }
assert_match "array" 'type array encoding array length 4 .*valid 1 native_restore_accepts 0' "$(inspect "$P/array.dump")"
assert_match "strict metadata" 'type_id 0 type string .*key_metadata META-TAGS v1 ignorable, META-Ownr v3 valid 1' "$(inspect "$P/meta-strict.dump")"
assert_match "template 29" 'written_by Redis 8.10 .*type_id 29 type hash encoding template \(listpack values\) length 4' "$(inspect "$VEC/hash_template_lp_lp.dump")"
assert_match "template reference" 'valid 0 .*type 30 refers to a hash template registry' "$(inspect "$P/template-ref-30.dump")"

echo "[$TEST_NAME] Valkey 9.2 path hashes"
PHGEN=$IT_DIR/path_hash_payloads.py
PHVEC=$REPO_ROOT/tests/vectors/handmade-valkey-9.2
python3 "$PHGEN" vectors "$WORK/ph-regen"
cp "$PHVEC/README.md" "$WORK/ph-regen/"
assert_eq "path hash vectors match path_hash_payloads.py" "" "$(diff -r "$PHVEC" "$WORK/ph-regen" 2>&1)"
python3 "$PHGEN" corrupt "$WORK/ph-corrupt"
committed=$(cd "$REPO_ROOT/tests/vectors/corrupt" && ls handmade-valkey-9.2__* | sort)
assert_eq "corrupt path hashes: the same files" "$(cd "$WORK/ph-corrupt" && ls | sort)" "$committed"
for f in $committed; do
  cmp -s "$REPO_ROOT/tests/vectors/corrupt/$f" "$WORK/ph-corrupt/$f" || fail "corrupt path hash $f differs from path_hash_payloads.py"
done
unsupported_before=$(info_field restore restore_errors_unsupported)
ph_refusals=0
for f in "$PHVEC"/*.dump; do
  c=$(basename "$f" .dump)
  want=$(python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(d["length"], d["fields"])' "${f%.dump}.json")
  assert_eq "$c: native RESTORE refuses it" "$ERR_VERSION" "$(r_file "$f" RESTORE "n:$c" 0 @P@)"
  assert_eq "$c: RESTORE.ASKING names the type and the size" \
    "(error) ERR this server has no path hash type (Valkey 9.2+, RDB type 23); the payload holds a path hash of ${want% *} paths, ${want#* } fields" \
    "$(r_file "$f" RESTORE.ASKING "ph:$c" 0 @P@)"
  assert_eq "$c: no key" 0 "$(r_int EXISTS "ph:$c")"
  ph_refusals=$((ph_refusals + 1))
done
r SET old keep >/dev/null
r PEXPIRE old 600000 >/dev/null
assert_match "under REPLACE: the same error" 'no path hash type .* 3 paths, 4 fields$' \
  "$(r_file "$PHVEC/path_hash_small.dump" RESTORE.ASKING old 0 @P@ REPLACE)"
assert_eq "under REPLACE: the old value stays" keep "$(r --raw GET old)"
assert_between "under REPLACE: and its TTL" 1 600000 "$(r_int PTTL old)"
cfg_set restore.intercept newer >/dev/null
assert_match "intercepted RESTORE ... REPLACE: the same error" 'no path hash type .* 0 paths, 0 fields$' \
  "$(r_file "$PHVEC/path_hash_empty.dump" RESTORE old 0 @P@ REPLACE)"
cfg_set restore.intercept off >/dev/null
assert_eq "intercepted: the old value stays" keep "$(r --raw GET old)"
ph_refusals=$((ph_refusals + 2))
assert_eq "path hash refusals counted as unsupported" "$((unsupported_before + ph_refusals))" \
  "$(info_field restore restore_errors_unsupported)"
for f in "$REPO_ROOT"/tests/vectors/corrupt/handmade-valkey-9.2__*.dump; do
  c=$(basename "$f" .dump)
  c=${c#handmade-valkey-9.2__}
  assert_eq "corrupt $c: Bad data format" "$ERR_BAD" "$(r_file "$f" RESTORE.ASKING old 0 @P@ REPLACE)"
done
assert_eq "corrupt path hashes under REPLACE: the old value stays" keep "$(r --raw GET old)"
assert_match "INSPECT: a path hash" \
  'written_by Valkey 9\.2 checksum ok type_id 23 type path-hash encoding path-hash length 3 paths 3 fields 4 valid 1 native_restore_accepts 0 error +error_offset *$' \
  "$(inspect "$PHVEC/path_hash_small.dump")"
assert_match "INSPECT: an emptied path hash" 'length 0 paths 0 fields 0 valid 1' "$(inspect "$PHVEC/path_hash_empty.dump")"
assert_match "INSPECT: a repeated path" 'valid 0 native_restore_accepts 0 error ERR Bad data format \(duplicate element\) error_offset 9$' \
  "$(inspect "$REPO_ROOT/tests/vectors/corrupt/handmade-valkey-9.2__path_hash_two_paths__duplicate_path_crc_fixed.dump")"
assert_match "INSPECT: a path with no fields" 'error ERR Bad data format \(empty collection\) error_offset 4$' \
  "$(inspect "$REPO_ROOT/tests/vectors/corrupt/handmade-valkey-9.2__path_hash_one__field_count_0_crc_fixed.dump")"
assert_match "INSPECT: footer 80 has no type 23" 'error ERR Bad data format \(unknown object type 23\) error_offset 0$' \
  "$(inspect "$REPO_ROOT/tests/vectors/corrupt/handmade-valkey-9.2__path_hash_small__version_80_crc_fixed.dump")"

finish
