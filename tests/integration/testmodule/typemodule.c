/* restoret1: a tiny module data type for tests/integration/test_modules.sh.
 *
 * One value per key: a binary-safe string and a signed integer, saved to RDB (and so to DUMP
 * payloads) with SaveString and SaveSigned under the 9-character type name "restoret1",
 * encoding version 1. A DUMP payload of such a key is:
 *
 *   07 | module id (LEN: 9 name chars x 6 bits, then encver 1 in 10 bits)
 *      | 05 STRING str | 02 UINT int (two's complement) | 00 EOF | footer
 *
 * Commands:
 *   RESTORET1.SET key string integer   -> OK (creates or overwrites a restoret1 key)
 *   RESTORET1.GET key                  -> [string, integer], or nil when the key is missing
 *
 * Build: gcc -shared -fPIC -O2 -I<this directory> -o typemodule.so typemodule.c
 * (redismodule.h is vendored here from the redis-module crate; see README.md.)
 */

#include "redismodule.h"

#define TYPE_NAME "restoret1"
#define ENCVER 1

static RedisModuleType *RestoreT1Type;

typedef struct {
    RedisModuleString *str;
    long long num;
} RestoreT1Value;

static void RestoreT1_Free(void *value) {
    RestoreT1Value *v = value;
    if (v->str) RedisModule_FreeString(NULL, v->str);
    RedisModule_Free(v);
}

static void *RestoreT1_RdbLoad(RedisModuleIO *io, int encver) {
    if (encver != ENCVER) return NULL;
    RestoreT1Value *v = RedisModule_Calloc(1, sizeof(*v));
    v->str = RedisModule_LoadString(io);
    v->num = (long long)RedisModule_LoadSigned(io);
    /* With REDISMODULE_OPTIONS_HANDLE_IO_ERRORS a short read is reported here instead of
     * aborting the server: refuse the value (RESTORE then replies "Bad data format"). */
    if (RedisModule_IsIOError(io)) {
        RestoreT1_Free(v);
        return NULL;
    }
    return v;
}

static void RestoreT1_RdbSave(RedisModuleIO *io, void *value) {
    RestoreT1Value *v = value;
    RedisModule_SaveString(io, v->str);
    RedisModule_SaveSigned(io, v->num);
}

static void RestoreT1_AofRewrite(RedisModuleIO *aof, RedisModuleString *key, void *value) {
    RestoreT1Value *v = value;
    RedisModule_EmitAOF(aof, "restoret1.set", "ssl", key, v->str, v->num);
}

/* RESTORET1.SET key string integer */
static int RestoreT1_Set(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    long long num;
    if (argc != 4) return RedisModule_WrongArity(ctx);
    if (RedisModule_StringToLongLong(argv[3], &num) != REDISMODULE_OK)
        return RedisModule_ReplyWithError(ctx, "ERR value is not an integer or out of range");
    RedisModuleKey *key = RedisModule_OpenKey(ctx, argv[1], REDISMODULE_READ | REDISMODULE_WRITE);
    int type = RedisModule_KeyType(key);
    if (type != REDISMODULE_KEYTYPE_EMPTY && RedisModule_ModuleTypeGetType(key) != RestoreT1Type) {
        RedisModule_CloseKey(key);
        return RedisModule_ReplyWithError(ctx, REDISMODULE_ERRORMSG_WRONGTYPE);
    }
    RestoreT1Value *v = RedisModule_Calloc(1, sizeof(*v));
    v->str = RedisModule_CreateStringFromString(NULL, argv[2]);
    v->num = num;
    RedisModule_ModuleTypeSetValue(key, RestoreT1Type, v); /* frees a previous value */
    RedisModule_CloseKey(key);
    RedisModule_ReplicateVerbatim(ctx);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

/* RESTORET1.GET key */
static int RestoreT1_Get(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 2) return RedisModule_WrongArity(ctx);
    RedisModuleKey *key = RedisModule_OpenKey(ctx, argv[1], REDISMODULE_READ);
    int type = RedisModule_KeyType(key);
    if (type == REDISMODULE_KEYTYPE_EMPTY) {
        RedisModule_CloseKey(key);
        return RedisModule_ReplyWithNull(ctx);
    }
    if (RedisModule_ModuleTypeGetType(key) != RestoreT1Type) {
        RedisModule_CloseKey(key);
        return RedisModule_ReplyWithError(ctx, REDISMODULE_ERRORMSG_WRONGTYPE);
    }
    RestoreT1Value *v = RedisModule_ModuleTypeGetValue(key);
    RedisModule_ReplyWithArray(ctx, 2);
    RedisModule_ReplyWithString(ctx, v->str);
    RedisModule_ReplyWithLongLong(ctx, v->num);
    RedisModule_CloseKey(key);
    return REDISMODULE_OK;
}

int RedisModule_OnLoad(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argv;
    (void)argc;
    if (RedisModule_Init(ctx, "restoret1", 1, REDISMODULE_APIVER_1) == REDISMODULE_ERR)
        return REDISMODULE_ERR;
    RedisModule_SetModuleOptions(ctx, REDISMODULE_OPTIONS_HANDLE_IO_ERRORS);

    /* Method-table version 1: rdb_load, rdb_save, aof_rewrite, mem_usage, digest, free,
     * which every server since 4.0 reads. */
    RedisModuleTypeMethods tm = {
        .version = 1,
        .rdb_load = RestoreT1_RdbLoad,
        .rdb_save = RestoreT1_RdbSave,
        .aof_rewrite = RestoreT1_AofRewrite,
        .free = RestoreT1_Free,
    };
    RestoreT1Type = RedisModule_CreateDataType(ctx, TYPE_NAME, ENCVER, &tm);
    if (RestoreT1Type == NULL) return REDISMODULE_ERR;

    if (RedisModule_CreateCommand(ctx, "restoret1.set", RestoreT1_Set, "write deny-oom", 1, 1, 1) == REDISMODULE_ERR)
        return REDISMODULE_ERR;
    if (RedisModule_CreateCommand(ctx, "restoret1.get", RestoreT1_Get, "readonly", 1, 1, 1) == REDISMODULE_ERR)
        return REDISMODULE_ERR;
    return REDISMODULE_OK;
}
