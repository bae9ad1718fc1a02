/* SL_PARAMSv1 reader (format in model_params.h). */
#include "runtime/model_params.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "runtime/flatbuffer.h"
#include "runtime/model.h"

namespace {

using kws::fb::Reader;
using kws::fb::Table;
using kws::fb::Vector;

/* Value union type codes of MLTK's dictionary.fbs. */
enum ValueType : uint8_t {
  kBool = 1, kI8, kU8, kI16, kU16, kI32, kU32, kI64, kU64, kF32, kF64, kStr, kStrList, kI32List, kF32List, kBin,
};

constexpr char kName[] = "SL_PARAMSv1";

/* The value table and its type for `key`; status NOT_FOUND or MODEL_INVALID. */
kws_status_t find(const kws_model_params_t *p, const char *key, Reader &r, Table *value, uint8_t *type) {
  if (!p || !key || !p->dict) return KWS_ERR_ARG;
  r = Reader(p->dict, p->dict_len);
  const size_t key_len = strlen(key);
  Vector entries;
  entries.first = p->entries;
  entries.count = p->n_entries;
  for (uint32_t i = 0; i < p->n_entries; i++) {
    Table entry = r.table_in(entries, i);
    uint32_t len = 0;
    const char *k = r.string(entry, 0, &len);
    if (r.bad()) return KWS_ERR_MODEL_INVALID;
    if (!k || len != key_len || memcmp(k, key, len) != 0) continue;
    *type = r.scalar<uint8_t>(entry, 1, 0);
    *value = r.table(entry, 2);
    return r.bad() || !value->present() ? KWS_ERR_MODEL_INVALID : KWS_OK;
  }
  return KWS_ERR_NOT_FOUND;
}

/* The vector of a list entry of type `want` (MLTK's string and int32 lists): status as the
 * getters return it. */
kws_status_t find_list(const kws_model_params_t *p, const char *key, uint8_t want, Reader &r,
                       Vector *list) {
  Table v;
  uint8_t type = 0;
  kws_status_t s = find(p, key, r, &v, &type);
  if (s != KWS_OK) return s;
  if (type != want) return KWS_ERR_UNSUPPORTED;
  *list = r.vector(v, 0, 4, 4);
  return r.bad() ? KWS_ERR_MODEL_INVALID : KWS_OK;
}

/* Any integer or bool value as int64 (ok = false for other types). */
bool as_int64(Reader &r, const Table &v, uint8_t type, int64_t *out) {
  switch (type) {
    case kBool: *out = r.scalar<uint8_t>(v, 0, 0) ? 1 : 0; break;
    case kI8: *out = r.scalar<int8_t>(v, 0, 0); break;
    case kU8: *out = r.scalar<uint8_t>(v, 0, 0); break;
    case kI16: *out = r.scalar<int16_t>(v, 0, 0); break;
    case kU16: *out = r.scalar<uint16_t>(v, 0, 0); break;
    case kI32: *out = r.scalar<int32_t>(v, 0, 0); break;
    case kU32: *out = r.scalar<uint32_t>(v, 0, 0); break;
    case kI64: *out = r.scalar<int64_t>(v, 0, 0); break;
    case kU64: {
      uint64_t u = r.scalar<uint64_t>(v, 0, 0);
      if (u > (uint64_t)INT64_MAX) return false;
      *out = (int64_t)u;
      break;
    }
    default: return false;
  }
  return !r.bad();
}

/* Every float and double entry is a finite number a float can hold: NaN or infinity reaches
 * the frontend's float-to-integer conversions (undefined behaviour), and a double beyond
 * FLT_MAX cannot even be converted to float. Such a dictionary is malformed. */
bool numbers_are_finite(Reader &r, const Vector &entries) {
  for (uint32_t i = 0; i < entries.count; i++) {
    Table entry = r.table_in(entries, i);
    const uint8_t type = r.scalar<uint8_t>(entry, 1, 0);
    if (type != kF32 && type != kF64) continue;
    Table value = r.table(entry, 2);
    const double v = type == kF32 ? (double)r.scalar<float>(value, 0, 0.0f) : r.scalar<double>(value, 0, 0.0);
    if (r.bad() || !isfinite(v) || fabs(v) > (double)FLT_MAX) return false;
  }
  return true;
}

}  // namespace

extern "C" kws_status_t kws_params_open(kws_model_params_t *p, const void *model, size_t model_len) {
  if (!p || !model) return KWS_ERR_ARG;
  memset(p, 0, sizeof(*p));
  if (model_len < 8 || model_len > 0x7fffffffu) return KWS_ERR_MODEL_INVALID;
  const uint8_t *base = static_cast<const uint8_t *>(model);
  Reader r(base, (uint32_t)model_len);
  Table root = r.root();
  Vector metas = r.vector(root, kws::schema::kModelMetadata, 4, 4);
  Vector buffers = r.vector(root, kws::schema::kModelBuffers, 4, 4);
  if (r.bad()) return KWS_ERR_MODEL_INVALID;
  for (uint32_t i = 0; i < metas.count; i++) {
    Table meta = r.table_in(metas, i);
    uint32_t len = 0;
    const char *name = r.string(meta, kws::schema::kMetaName, &len);
    uint32_t buffer = r.scalar<uint32_t>(meta, kws::schema::kMetaBuffer, 0);
    if (r.bad()) return KWS_ERR_MODEL_INVALID;
    if (!name || len != sizeof(kName) - 1 || memcmp(name, kName, len) != 0) continue;
    if (buffer >= buffers.count) return KWS_ERR_MODEL_INVALID;
    Vector data = r.vector(r.table_in(buffers, buffer), kws::schema::kBufferData, 1, 1);
    if (r.bad() || data.count < 8) return KWS_ERR_MODEL_INVALID;
    Reader d(base + data.first, data.count);
    Table dict = d.root();
    uint8_t version = d.scalar<uint8_t>(dict, 0, 0);
    Vector entries = d.vector(dict, 1, 4, 4);
    if (d.bad() || version != 1 || !numbers_are_finite(d, entries)) return KWS_ERR_MODEL_INVALID;
    p->dict = base + data.first;
    p->dict_len = data.count;
    p->entries = entries.first;
    p->n_entries = entries.count;
    return KWS_OK;
  }
  return KWS_ERR_NOT_FOUND;
}

extern "C" kws_status_t kws_params_get_int(const kws_model_params_t *p, const char *key, int32_t *out) {
  Reader r;
  Table v;
  uint8_t type = 0;
  kws_status_t s = find(p, key, r, &v, &type);
  if (s != KWS_OK) return s;
  int64_t value = 0;
  if (!as_int64(r, v, type, &value) || value < INT32_MIN || value > INT32_MAX) return KWS_ERR_UNSUPPORTED;
  if (out) *out = (int32_t)value;
  return KWS_OK;
}

extern "C" kws_status_t kws_params_get_float(const kws_model_params_t *p, const char *key, float *out) {
  Reader r;
  Table v;
  uint8_t type = 0;
  kws_status_t s = find(p, key, r, &v, &type);
  if (s != KWS_OK) return s;
  float value = 0;
  int64_t i = 0;
  if (type == kF32)
    value = r.scalar<float>(v, 0, 0.0f);
  else if (type == kF64)
    value = (float)r.scalar<double>(v, 0, 0.0);
  else if (type != kBool && as_int64(r, v, type, &i))
    value = (float)i;
  else
    return KWS_ERR_UNSUPPORTED;
  if (r.bad()) return KWS_ERR_MODEL_INVALID;
  if (out) *out = value;
  return KWS_OK;
}

extern "C" kws_status_t kws_params_get_bool(const kws_model_params_t *p, const char *key, uint8_t *out) {
  Reader r;
  Table v;
  uint8_t type = 0;
  kws_status_t s = find(p, key, r, &v, &type);
  if (s != KWS_OK) return s;
  int64_t value = 0;
  if (!as_int64(r, v, type, &value) || (value != 0 && value != 1)) return KWS_ERR_UNSUPPORTED;
  if (out) *out = (uint8_t)value;
  return KWS_OK;
}

extern "C" kws_status_t kws_params_get_string(const kws_model_params_t *p, const char *key, const char **out,
                                              uint32_t *len) {
  Reader r;
  Table v;
  uint8_t type = 0;
  kws_status_t s = find(p, key, r, &v, &type);
  if (s != KWS_OK) return s;
  if (type != kStr) return KWS_ERR_UNSUPPORTED;
  uint32_t n = 0;
  const char *str = r.string(v, 0, &n);
  if (r.bad()) return KWS_ERR_MODEL_INVALID;
  if (out) *out = str ? str : "";
  if (len) *len = n;
  return KWS_OK;
}

extern "C" kws_status_t kws_params_get_string_count(const kws_model_params_t *p, const char *key, uint32_t *count) {
  Reader r;
  Vector list;
  kws_status_t s = find_list(p, key, kStrList, r, &list);
  if (s != KWS_OK) return s;
  if (count) *count = list.count;
  return KWS_OK;
}

extern "C" kws_status_t kws_params_get_string_at(const kws_model_params_t *p, const char *key, uint32_t index,
                                                 const char **out, uint32_t *len) {
  Reader r;
  Vector list;
  kws_status_t s = find_list(p, key, kStrList, r, &list);
  if (s != KWS_OK) return s;
  if (index >= list.count) return KWS_ERR_NOT_FOUND;
  uint32_t n = 0;
  const char *str = r.string_at(r.follow(list.first + 4 * index), &n);
  if (r.bad() || !str) return KWS_ERR_MODEL_INVALID;
  if (out) *out = str;
  if (len) *len = n;
  return KWS_OK;
}

extern "C" kws_status_t kws_params_get_int_list(const kws_model_params_t *p, const char *key, int32_t *out,
                                                uint32_t max, uint32_t *count) {
  Reader r;
  Vector list;
  kws_status_t s = find_list(p, key, kI32List, r, &list);
  if (s != KWS_OK) return s;
  if (count) *count = list.count;
  if (list.count > max) return KWS_ERR_UNSUPPORTED;
  for (uint32_t i = 0; i < list.count; i++) {
    const int32_t value = r.read<int32_t>(list.first + 4 * i);
    if (r.bad()) return KWS_ERR_MODEL_INVALID;
    if (out) out[i] = value;
  }
  return KWS_OK;
}

extern "C" kws_status_t kws_params_key_at(const kws_model_params_t *p, uint32_t index, const char **key,
                                          uint32_t *len) {
  if (!p || !p->dict) return KWS_ERR_ARG;
  if (index >= p->n_entries) return KWS_ERR_NOT_FOUND;
  Reader r(p->dict, p->dict_len);
  Vector entries;
  entries.first = p->entries;
  entries.count = p->n_entries;
  uint32_t n = 0;
  const char *k = r.string(r.table_in(entries, index), 0, &n);
  if (r.bad() || !k) return KWS_ERR_MODEL_INVALID;
  if (key) *key = k;
  if (len) *len = n;
  return KWS_OK;
}
