#pragma once
// The one place where diffbench depends on which LibTorch it was built with (1.13 on Debian 12, 2.x
// on Debian 13 and pip) beyond the APIs both have: process-wide runtime settings and the known
// faults of a version on this kind of machine.
#include <c10/core/ScalarType.h>

#include <string>

namespace diffbench {

/// Once per process, before the first forward: TorchScript's CPU fusion off. Debian 13's LibTorch
/// 2.6 is built with LLVM and turns CPU fusion on (pip's and Debian 12's builds leave it off); its
/// fused kernels were measured to compile for minutes per model on the digit UNet (a 4-step run
/// did not finish in 10 minutes), so it is off everywhere and every build times the same executor.
void configure_torch_runtime();

/// Whether torch::jit::optimize_for_inference (oneDNN layouts for frozen convolutions) can run here.
/// oneDNN 3 (LibTorch >= 2) divides by zero (SIGFPE, uncatchable) on CPUs that report no cache
/// sizes, as some VMs do (seen on a 2-core AMD EPYC VM: no /sys/devices/system/cpu/cpu0/cache);
/// LibTorch 1.13's oneDNN 2 does not. False there: --freeze then freezes without the rewrite.
bool inference_rewrite_safe();

/// Before a model runs in bf16 or fp16 on the CPU: convolutions in that dtype, through oneDNN, on
/// the shapes of a UNet's and a VAE's last layers (few output channels), against fp32. Debian 13's
/// LibTorch 2.6 on a 2-core AMD EPYC VM (avx512_bf16) was measured computing a bf16 convolution with
/// 32 inputs and 4 outputs with a relative error of 0.33 (0.003 elsewhere, and without oneDNN), which
/// took a UNet's bf16 result 30% from its fp32 one. Above 0.05, oneDNN is turned off for the process
/// (correct and slower), once per process; onednn_off_reason() then says why.
void guard_low_precision_convolutions(c10::ScalarType dtype);

/// Why oneDNN was turned off in this process ("" when it was not).
std::string onednn_off_reason();

}  // namespace diffbench
