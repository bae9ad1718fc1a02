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

  /* Starts a message about operator `op` ("operator 3 (CONV_2D): "). */
  Message &op(uint32_t index, const char *name) {
    clear();
    return add("operator ").num(index).add(" (").add(name).add("): ");
  }

  Message &tensor(uint32_t index) {
    clear();
    return add("tensor ").num(index).add(": ");
  }

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
