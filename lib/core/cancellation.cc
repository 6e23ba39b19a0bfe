// Cancellation: callbacks run under the object's mutex, so a registration's destruction waits
// for its callback and nothing runs after it is gone.
#include "kim/cancellation.h"

namespace kim {

Cancellation::Registration::Registration(Registration&& other) noexcept
    : owner_(other.owner_), id_(other.id_) {
  other.owner_ = nullptr;
}

Cancellation::Registration::~Registration() {
  if (owner_ == nullptr) return;
  std::lock_guard lock(owner_->mutex_);
  owner_->callbacks_.erase(id_);
}

void Cancellation::Cancel() {
  std::lock_guard lock(mutex_);
  if (cancelled_) return;
  cancelled_ = true;
  for (auto& [id, callback] : callbacks_) callback();
  callbacks_.clear();
}

bool Cancellation::IsCancelled() const {
  std::lock_guard lock(mutex_);
  return cancelled_;
}

Cancellation::Registration Cancellation::OnCancel(std::function<void()> callback) {
  std::lock_guard lock(mutex_);
  if (cancelled_) {
    callback();
    return Registration(nullptr, 0);
  }
  const uint64_t id = next_id_++;
  callbacks_.emplace(id, std::move(callback));
  return Registration(this, id);
}

}  // namespace kim
