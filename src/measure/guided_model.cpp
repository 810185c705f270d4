#include "measure/guided_model.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "diffbench/core/errors.h"
#include "diffbench/measure/resolve.h"

namespace diffbench {

at::Tensor conditioning_context(const Session& session, int64_t batch, bool guided) {
  if (session.unet->arity() != 3) return {};
  // Rows cycle over the batch: sample i takes row i mod N (N dividing the batch: the rows repeat whole).
  auto rows = [&](const at::Tensor& c) {
    return c.size(0) == batch ? c : c.index_select(0, at::arange(batch, at::kLong).remainder(c.size(0)));
  };
  at::Tensor cond = rows(session.cond);
  at::Tensor uncond = session.uncond.defined() ? rows(session.uncond) : at::zeros_like(cond);
  return (guided ? at::cat({uncond, cond}) : cond).to(session.device, session.dtype).contiguous();
}

GuidedModel::GuidedModel(const Session& session, const RunSpec& spec)
    : session_(session),
      conditional_(session.unet->arity() == 3),
      guided_(uses_guidance(session, spec)),
      guidance_(spec.guidance.value_or(0.0)),
      context_(conditioning_context(session, spec.shape[0], guided_)),
      clock_(device::stream_clock(session.device, session.cuda_events)) {}

at::Tensor GuidedModel::operator()(const at::Tensor& x_in, const at::Tensor& timestep) {
  const int start = clock_->mark();
  at::Tensor in = x_in.to(session_.dtype);
  if (guided_) in = at::cat({in, in});
  if (session_.load.channels_last) in = in.contiguous(at::MemoryFormat::ChannelsLast);
  at::Tensor out =
      conditional_ ? session_.unet->forward({in, timestep, context_}) : session_.unet->forward({in, timestep});
  if (out.sizes() != in.sizes()) {
    throw RuntimeError(fmt::format("UNet '{}' returned shape [{}]; expected [{}], the shape of its sample input",
                                   session_.unet->path(), fmt::join(out.sizes(), ", "), fmt::join(in.sizes(), ", ")));
  }
  if (!at::isFloatingType(out.scalar_type())) {
    throw RuntimeError(fmt::format("UNet '{}' returned dtype {}; expected a floating-point tensor",
                                   session_.unet->path(), c10::toString(out.scalar_type())));
  }
  out = out.to(at::kFloat);
  if (guided_) {
    auto halves = out.chunk(2);
    out = halves[0] + guidance_ * (halves[1] - halves[0]);
  }
  marks_.emplace_back(start, clock_->mark());
  return out;
}

}  // namespace diffbench
