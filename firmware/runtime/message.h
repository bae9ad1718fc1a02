/* Builds short error messages in a fixed buffer without stdio (firmware has no printf). */
#ifndef KWS_RUNTIME_MESSAGE_H
#define KWS_RUNTIME_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "kws_status.h"

namespace kws {

class Message {
 public:
  Message(char *buf, size_t cap) : buf_(buf), cap_(cap) { clear(); }

  Message &clear() {
    len_ = 0;
    if (cap_) buf_[0] = 0;
    return *this;
  }

  Message &add(const char *s);
  Message &num(int64_t v);
  /* 'text' from a model: at most 24 characters, anything unprintable as '?'. */
  Message &quoted(const char *s, uint32_t len);

  /* Starts a message about operator `op` ("operator 3 (CONV_2D): "; in a subgraph other than
   * 0, "subgraph 1 operator 3 (ASSIGN_VARIABLE): "). Out of line, as add and num: the
   * runtime names an operator or a tensor at dozens of places. */
  Message &op(uint32_t subgraph, uint32_t index, const char *name);
  Message &tensor(uint32_t subgraph, uint32_t index);

  /* Starts a message with "subgraph N " for N > 0 (nothing for subgraph 0). */
  Message &in(uint32_t subgraph);

  char *tail() { return buf_ + len_; }
  size_t room() const { return cap_ > len_ ? cap_ - len_ : 0; }
  size_t length() const { return len_; }

 private:
  char *buf_;
  size_t cap_;
  size_t len_ = 0;
};

/* Sets the message and returns `status`, so checks read `return fail(msg, ...)`. */
inline kws_status_t fail(Message &msg, kws_status_t status, const char *reason) {
  msg.add(reason);
  return status;
}

}  // namespace kws

#endif
