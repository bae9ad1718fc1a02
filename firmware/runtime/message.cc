/* Message building without stdio (see message.h); out of line to keep call sites small. */
#include "runtime/message.h"

namespace kws {

Message &Message::add(const char *s) {
  while (s && *s && len_ + 1 < cap_) buf_[len_++] = *s++;
  if (cap_) buf_[len_] = 0;
  return *this;
}

Message &Message::num(int64_t v) {
  char digits[21];
  int n = 0;
  uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
  do {
    digits[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u && n < 20);
  if (v < 0 && len_ + 1 < cap_) buf_[len_++] = '-';
  while (n && len_ + 1 < cap_) buf_[len_++] = digits[--n];
  if (cap_) buf_[len_] = 0;
  return *this;
}

Message &Message::in(uint32_t subgraph) {
  clear();
  return subgraph ? add("subgraph ").num(subgraph).add(" ") : *this;
}

Message &Message::op(uint32_t subgraph, uint32_t index, const char *name) {
  return in(subgraph).add("operator ").num(index).add(" (").add(name).add("): ");
}

Message &Message::tensor(uint32_t subgraph, uint32_t index) { return in(subgraph).add("tensor ").num(index).add(": "); }

Message &Message::quoted(const char *s, uint32_t len) {
  add("'");
  for (uint32_t i = 0; s && i < len && i < 24; i++) {
    const char c[2] = {s[i] >= ' ' && s[i] < 127 ? s[i] : '?', 0};
    add(c);
  }
  return add(len > 24 ? "...'" : "'");
}

}  // namespace kws
