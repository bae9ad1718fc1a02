/* The bounds-checked FlatBuffers reader (format notes in flatbuffer.h). */
#include "runtime/flatbuffer.h"

namespace kws {
namespace fb {

uint32_t Reader::follow(uint32_t pos) {
  uint32_t rel = read<uint32_t>(pos);
  uint64_t target = (uint64_t)pos + rel;
  if (bad_ || rel == 0 || target + 4 > size_) {
    bad_ = true;
    return 0;
  }
  return (uint32_t)target;
}

Table Reader::table_at(uint32_t pos) {
  Table t;
  if (pos == 0 || (pos & 3u) != 0 || !in_bounds(pos, 4)) {
    bad_ = true;
    return Table{};
  }
  int32_t soff = read<int32_t>(pos);
  int64_t vt = (int64_t)pos - soff;
  if (vt < 0 || vt + 4 > (int64_t)size_ || (vt & 1) != 0) {
    bad_ = true;
    return Table{};
  }
  t.vtable = (uint32_t)vt;
  t.vtable_size = read<uint16_t>(t.vtable);
  t.table_size = read<uint16_t>(t.vtable + 2);
  if (t.vtable_size < 4 || (t.vtable_size & 1) != 0 || !in_bounds(t.vtable, t.vtable_size) ||
      t.table_size < 4 || !in_bounds(pos, t.table_size)) {
    bad_ = true;
    return Table{};
  }
  t.pos = pos;
  return t;
}

Table Reader::root() {
  if (size_ < 8) {
    bad_ = true;
    return Table{};
  }
  return table_at(follow(0));
}

uint32_t Reader::field(const Table &t, unsigned index, unsigned width) {
  if (!t.present()) return 0;
  uint32_t entry = 4 + 2 * index;
  if (entry + 2 > t.vtable_size) return 0;
  uint16_t rel = read<uint16_t>(t.vtable + entry);
  if (rel == 0) return 0;
  if ((uint32_t)rel + width > t.table_size) {
    bad_ = true;
    return 0;
  }
  return t.pos + rel;
}

Table Reader::table(const Table &t, unsigned index) {
  uint32_t pos = field(t, index, 4);
  return pos ? table_at(follow(pos)) : Table{};
}

Vector Reader::vector(const Table &t, unsigned index, uint32_t elem_size, uint32_t align) {
  Vector v;
  uint32_t pos = field(t, index, 4);
  if (!pos) return v;
  uint32_t start = follow(pos);
  if (!start || (start & 3u) != 0) {
    bad_ = true;
    return v;
  }
  uint32_t count = read<uint32_t>(start);
  if (!in_bounds(start + 4, (uint64_t)count * elem_size) || ((start + 4) % align) != 0) {
    bad_ = true;
    return v;
  }
  v.first = start + 4;
  v.count = count;
  v.present = true;
  return v;
}

Table Reader::table_in(const Vector &v, uint32_t i) {
  if (i >= v.count) {
    bad_ = true;
    return Table{};
  }
  return table_at(follow(v.first + 4 * i));
}

const char *Reader::string_at(uint32_t start, uint32_t *len) {
  *len = 0;
  if (!start) return nullptr;
  uint32_t n = read<uint32_t>(start);
  if (!in_bounds(start + 4, (uint64_t)n + 1) || base_[start + 4 + n] != 0) {
    bad_ = true;
    return nullptr;
  }
  *len = n;
  return reinterpret_cast<const char *>(base_ + start + 4);
}

const char *Reader::string(const Table &t, unsigned index, uint32_t *len) {
  uint32_t pos = field(t, index, 4);
  *len = 0;
  return pos ? string_at(follow(pos), len) : nullptr;
}

}  // namespace fb
}  // namespace kws
