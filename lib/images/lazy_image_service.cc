// Backend created on first use, retried after failures.
#include "lib/images/lazy_image_service.h"

#include <mutex>

#include "lib/images/image_receiver.h"

namespace kim {
namespace {

class LazyImageService final : public ImageService, public ImageReceiver {
 public:
  explicit LazyImageService(ImageServiceFactory factory) : factory_(std::move(factory)) {}

  absl::StatusOr<std::vector<Image>> List(const ListOptions& options) override {
    auto backend = Backend();
    if (!backend.ok()) return backend.status();
    return (*backend)->List(options);
  }
  absl::StatusOr<Image> Status(const std::string& image) override {
    auto backend = Backend();
    if (!backend.ok()) return backend.status();
    return (*backend)->Status(image);
  }
  absl::StatusOr<ImageDetails> Inspect(const std::string& image) override {
    auto backend = Backend();
    if (!backend.ok()) return backend.status();
    return (*backend)->Inspect(image);
  }
  absl::StatusOr<Image> Pull(const std::string& image, const PullOptions& options) override {
    auto backend = Backend();
    if (!backend.ok()) return backend.status();
    return (*backend)->Pull(image, options);
  }
  absl::StatusOr<std::string> Push(const std::string& image, const PushOptions& options) override {
    auto backend = Backend();
    if (!backend.ok()) return backend.status();
    return (*backend)->Push(image, options);
  }
  absl::Status Save(const std::vector<std::string>& images, const SaveOptions& options,
                    const ByteSink& sink) override {
    auto backend = Backend();
    if (!backend.ok()) return backend.status();
    return (*backend)->Save(images, options, sink);
  }
  absl::StatusOr<std::vector<LoadedImage>> Load(const ByteSource& source) override {
    auto backend = Backend();
    if (!backend.ok()) return backend.status();
    return (*backend)->Load(source);
  }
  absl::StatusOr<Image> Tag(const std::string& source,
                            const std::vector<std::string>& targets) override {
    auto backend = Backend();
    if (!backend.ok()) return backend.status();
    return (*backend)->Tag(source, targets);
  }
  absl::StatusOr<DaemonVersion> Version() override {
    auto backend = Backend();
    if (!backend.ok()) return backend.status();
    return (*backend)->Version();
  }
  std::vector<RemoveResult> Remove(const std::vector<std::string>& images, bool force) override {
    auto backend = Backend();
    if (backend.ok()) return (*backend)->Remove(images, force);
    std::vector<RemoveResult> results;
    for (const std::string& image : images) {
      results.push_back({.image = image, .status = backend.status()});
    }
    return results;
  }
  absl::StatusOr<PruneReport> Prune(const PruneOptions& options) override {
    auto backend = Backend();
    if (!backend.ok()) return backend.status();
    return (*backend)->Prune(options);
  }
  absl::StatusOr<std::vector<NodeDistribution>> Distribute(
      const std::vector<std::string>& images, const DistributeOptions& options) override {
    auto backend = Backend();
    if (!backend.ok()) return backend.status();
    return (*backend)->Distribute(images, options);
  }
  absl::Status Pin(const std::vector<std::string>& images, bool pinned) override {
    auto backend = Backend();
    if (!backend.ok()) return backend.status();
    return (*backend)->Pin(images, pinned);
  }
  absl::StatusOr<std::unique_ptr<ReceiveSession>> BeginReceive(const TransferOffer& offer) override {
    auto receiver = Receiver();
    if (!receiver.ok()) return receiver.status();
    return (*receiver)->BeginReceive(offer);
  }
  absl::StatusOr<int> CollectAbandonedReceives() override {
    auto receiver = Receiver();
    if (!receiver.ok()) return receiver.status();
    return (*receiver)->CollectAbandonedReceives();
  }

 private:
  absl::StatusOr<ImageService*> Backend() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!backend_) {
      auto made = factory_();
      if (!made.ok()) return made.status();
      backend_ = std::move(*made);
    }
    return backend_.get();
  }

  // The backend as a receiver of images from other nodes; Unimplemented when it is none.
  absl::StatusOr<ImageReceiver*> Receiver() {
    auto backend = Backend();
    if (!backend.ok()) return backend.status();
    auto* receiver = dynamic_cast<ImageReceiver*>(*backend);
    if (receiver == nullptr) {
      return absl::UnimplementedError("this image backend cannot receive images from other nodes");
    }
    return receiver;
  }

  ImageServiceFactory factory_;
  std::mutex mutex_;
  std::shared_ptr<ImageService> backend_;
};

}  // namespace

std::unique_ptr<ImageService> NewLazyImageService(ImageServiceFactory factory) {
  return std::make_unique<LazyImageService>(std::move(factory));
}

}  // namespace kim
