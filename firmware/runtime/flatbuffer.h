/* A bounds-checked reader of FlatBuffers data (no flatbuffers library, no allocation).
 *
 * The format (from the FlatBuffers specification): offsets to tables, vectors and strings are
 * unsigned 32-bit and count forward from where they are stored; a table begins with a signed
 * 32-bit offset back to its vtable (vtable = table - soffset), the vtable holds its own byte
 * size, the table's byte size and one uint16 field offset per field (0 = field absent); a
 * vector or string is a uint32 count followed by the elements.
 *
 * Every read checks its bounds. A failed read returns zero values and sets the sticky `bad`
 * flag, so code can read a whole object and check `bad` once; nothing ever reads outside
 * [base, base + size). The verifier reads the model with this; the interpreter reads the
 * already verified model with the same code.
 */
#ifndef KWS_RUNTIME_FLATBUFFER_H
#define KWS_RUNTIME_FLATBUFFER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

namespace kws {
namespace fb {

/* A table located in the buffer; pos == 0 means "absent" (a table can never start at 0). */
struct Table {
  uint32_t pos = 0;
  uint32_t vtable = 0;
  uint16_t vtable_size = 0;
  uint16_t table_size = 0;
  bool present() const { return pos != 0; }
};

/* A vector: position of element 0 and the element count; count 0 when absent. */
struct Vector {
  uint32_t first = 0;
  uint32_t count = 0;
  bool present = false;
};

/* memcpy of a few bytes as the one or two loads it is: the firmware builds with
 * -ffreestanding, where a plain memcpy stays a library call (~20 instructions per field). */
inline void copy(void *dst, const void *src, size_t n) {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_memcpy(dst, src, n);
#else
  memcpy(dst, src, n);
#endif
}

class Reader {
 public:
  static constexpr bool kChecked = true;
  Reader() = default;
  Reader(const uint8_t *base, uint32_t size) : base_(base), size_(size) {}

  bool bad() const { return bad_; }
  void clear_bad() { bad_ = false; }
  const uint8_t *base() const { return base_; }
  uint32_t size() const { return size_; }

  /* True if [pos, pos + len) lies inside the buffer (sets bad otherwise). */
  bool in_bounds(uint32_t pos, uint64_t len) {
    if ((uint64_t)pos + len > size_) {
      bad_ = true;
      return false;
    }
    return true;
  }

  /* A scalar at `pos` (zero, and bad set, if out of bounds). The reader's other functions
   * are out of line: their checks are compiled once, not at every field read, which keeps
   * the runtime small in flash. */
  template <typename T>
  T read(uint32_t pos) {
    T v{};
    if (in_bounds(pos, sizeof(T))) copy(&v, base_ + pos, sizeof(T));
    return v;
  }

  /* Follows the uoffset stored at `pos`; returns 0 (and sets bad) if it leaves the buffer. */
  uint32_t follow(uint32_t pos);

  Table table_at(uint32_t pos);
  Table root();

  /* Position of field `index` (width `width` bytes) or 0 if the table omits it. */
  uint32_t field(const Table &t, unsigned index, unsigned width);

  template <typename T>
  T scalar(const Table &t, unsigned index, T fallback) {
    uint32_t pos = field(t, index, sizeof(T));
    return pos ? read<T>(pos) : fallback;
  }

  Table table(const Table &t, unsigned index);

  /* A vector field with elements of `elem_size` bytes, checked to fit and to be aligned to
   * `align` bytes relative to the buffer start. */
  Vector vector(const Table &t, unsigned index, uint32_t elem_size, uint32_t align);

  /* Element i of a vector of tables. */
  Table table_in(const Vector &v, uint32_t i);

  /* A string: its bytes (not copied) and length; checks the terminating 0 byte. */
  const char *string_at(uint32_t start, uint32_t *len);
  const char *string(const Table &t, unsigned index, uint32_t *len);

 private:
  const uint8_t *base_ = nullptr;
  uint32_t size_ = 0;
  bool bad_ = false;
};

/* A reader of a buffer the Reader above has already checked (the verified model), with the
 * same interface and no checks: every read the interpreter repeats after kws_interp_init
 * follows exactly the offsets that verification followed and found in bounds, so the checks
 * could only pass again. Inline, so re-reading an operator's tensors at every invoke costs a
 * few loads per field instead of a checked call. Never use it on unverified bytes. */
class Trusted {
 public:
  static constexpr bool kChecked = false;
  Trusted(const uint8_t *base, uint32_t size) : base_(base) { (void)size; }

  bool bad() const { return false; }
  const uint8_t *base() const { return base_; }

  template <typename T>
  T read(uint32_t pos) const {
    T v;
    copy(&v, base_ + pos, sizeof(T));
    return v;
  }
  uint32_t follow(uint32_t pos) const { return pos + read<uint32_t>(pos); }
  Table table_at(uint32_t pos) const {
    Table t;
    t.pos = pos;
    t.vtable = (uint32_t)((int64_t)pos - read<int32_t>(pos));
    t.vtable_size = read<uint16_t>(t.vtable);
    t.table_size = read<uint16_t>(t.vtable + 2);
    return t;
  }
  uint32_t field(const Table &t, unsigned index, unsigned width) const {
    (void)width;
    const uint32_t entry = 4 + 2 * index;
    if (!t.present() || entry + 2 > t.vtable_size) return 0;
    const uint16_t rel = read<uint16_t>(t.vtable + entry);
    return rel ? t.pos + rel : 0;
  }
  template <typename T>
  T scalar(const Table &t, unsigned index, T fallback) const {
    const uint32_t pos = field(t, index, sizeof(T));
    return pos ? read<T>(pos) : fallback;
  }
  Table table(const Table &t, unsigned index) const {
    const uint32_t pos = field(t, index, 4);
    return pos ? table_at(follow(pos)) : Table{};
  }
  Vector vector(const Table &t, unsigned index, uint32_t elem_size, uint32_t align) const {
    (void)elem_size;
    (void)align;
    Vector v;
    const uint32_t pos = field(t, index, 4);
    if (!pos) return v;
    const uint32_t start = follow(pos);
    v.first = start + 4;
    v.count = read<uint32_t>(start);
    v.present = true;
    return v;
  }
  Table table_in(const Vector &v, uint32_t i) const { return table_at(follow(v.first + 4 * i)); }
  const char *string(const Table &t, unsigned index, uint32_t *len) const {
    const uint32_t pos = field(t, index, 4);
    *len = 0;
    if (!pos) return nullptr;
    const uint32_t start = follow(pos);
    *len = read<uint32_t>(start);
    return reinterpret_cast<const char *>(base_ + start + 4);
  }

 private:
  const uint8_t *base_;
};

}  // namespace fb
}  // namespace kws

#endif
