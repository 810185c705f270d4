// --cuda-graphs (CUDA builds only): the UNet's forward captured as a CUDA graph and replayed.
// Unverified until a GPU run: no GPU was available when it was written (docs/optimisations.md).
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "models/device.h"

namespace diffbench::device {
namespace {

class CudaGraphModel : public Model {
 public:
  explicit CudaGraphModel(std::unique_ptr<Model> inner)
      : Model(inner->path(), inner->arity(), inner->dtype()), inner_(std::move(inner)) {
    param_bytes_ = inner_->parameter_bytes();
    sample_shape_ = inner_->sample_shape();
    cond_shape_ = inner_->cond_shape();
    metadata_ = inner_->metadata();
  }

  std::string format() const override { return inner_->format(); }
  std::string shape_refusal(const std::vector<int64_t>& shape) const override { return inner_->shape_refusal(shape); }

  // Replay the graph captured for these shapes (capturing it first); the output is copied out of
  // the graph's buffer, which the next replay overwrites.
  at::Tensor forward(const std::vector<at::Tensor>& inputs) const override {
    if (!graph_ || !same_shapes(inputs)) capture(inputs);
    for (size_t i = 0; i < inputs.size(); ++i) static_in_[i].copy_(inputs[i]);
    graph_->replay();
    return static_out_.clone();
  }

 private:
  bool same_shapes(const std::vector<at::Tensor>& inputs) const {
    if (inputs.size() != static_in_.size()) return false;
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (inputs[i].sizes() != static_in_[i].sizes() || inputs[i].dtype() != static_in_[i].dtype()) return false;
    }
    return true;
  }

  // Warm-up calls on a side stream (TorchScript's profiling runs and cuDNN's algorithm choice happen
  // before capture, as CUDA graphs require), then one captured call.
  void capture(const std::vector<at::Tensor>& inputs) const {
    graph_.reset();
    static_in_.clear();
    for (const auto& t : inputs) static_in_.push_back(t.clone());
    c10::cuda::CUDAStream stream = c10::cuda::getStreamFromPool();
    stream.synchronize();
    {
      c10::cuda::CUDAStreamGuard guard(stream);
      for (int i = 0; i < 3; ++i) inner_->forward(static_in_);
      stream.synchronize();
      graph_ = std::make_unique<at::cuda::CUDAGraph>();
      graph_->capture_begin();
      static_out_ = inner_->forward(static_in_);
      graph_->capture_end();
    }
    stream.synchronize();
  }

  std::unique_ptr<Model> inner_;
  mutable std::unique_ptr<at::cuda::CUDAGraph> graph_;
  mutable std::vector<at::Tensor> static_in_;
  mutable at::Tensor static_out_;
};

}  // namespace

std::unique_ptr<Model> with_cuda_graphs(std::unique_ptr<Model> unet) {
  return std::make_unique<CudaGraphModel>(std::move(unet));
}

}  // namespace diffbench::device
