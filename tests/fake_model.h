#pragma once
// A Model without TorchScript, for testing the runner's protocol: it sleeps a known time per call,
// can turn its output NaN or raise a stop signal at a chosen call, and counts its calls.
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <ATen/ATen.h>

#include "diffbench/models/model.h"

namespace diffbench::testing {

class FakeModel : public Model {
 public:
  explicit FakeModel(int arity = 2) : Model("fake.pt", arity, at::kFloat) {}

  at::Tensor forward(const std::vector<at::Tensor>& inputs) const override {
    const int call = calls++;
    if (sleep_s > 0) std::this_thread::sleep_for(std::chrono::duration<double>(sleep_s));
    if (on_call) on_call(call);
    if (call >= nan_from_call) return at::full_like(inputs[0], NAN);
    if (arity() == 3) {  // epsilon = the mean of each row's conditioning, so guidance is visible
      at::Tensor per_row = inputs[2].mean({1, 2}).reshape({-1, 1, 1, 1});
      return at::zeros_like(inputs[0]) + per_row;
    }
    return inputs[0] * 0.1;
  }

  /// The latent shape a manifest would give (as ScriptModel reads "sample_shape").
  void set_sample_shape(std::vector<int64_t> shape) { sample_shape_ = std::move(shape); }

  double sleep_s = 0;
  int nan_from_call = 1 << 30;
  std::function<void(int call)> on_call;
  mutable int calls = 0;
};

}  // namespace diffbench::testing
