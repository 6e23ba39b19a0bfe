// Cancellation: a one-way signal with which a caller asks running work (a pull, a push) to stop.
#ifndef KIM_CANCELLATION_H_
#define KIM_CANCELLATION_H_

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

namespace kim {

// Set once by Cancel, from any thread; the work polls IsCancelled or registers a callback (to
// cancel an RPC or a request it is blocked in). Thread-safe. Must outlive the work it is given to.
class Cancellation {
 public:
  Cancellation() = default;
  Cancellation(const Cancellation&) = delete;
  Cancellation& operator=(const Cancellation&) = delete;

  // Keeps a callback registered until destroyed; destruction waits for a running callback.
  class Registration {
   public:
    Registration(Registration&& other) noexcept;
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
    ~Registration();

   private:
    friend class Cancellation;
    Registration(Cancellation* owner, uint64_t id) : owner_(owner), id_(id) {}
    Cancellation* owner_;
    uint64_t id_;
  };

  // Asks the work to stop: runs every registered callback once. Later calls do nothing.
  void Cancel();

  // True once Cancel has been called.
  bool IsCancelled() const;

  // Runs `callback` when Cancel is called (at once, in this thread, if it already was) unless
  // the returned registration is destroyed first. The callback must not call back into this
  // object.
  [[nodiscard]] Registration OnCancel(std::function<void()> callback);

 private:
  mutable std::mutex mutex_;
  bool cancelled_ = false;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::function<void()>> callbacks_;
};

}  // namespace kim

#endif  // KIM_CANCELLATION_H_
