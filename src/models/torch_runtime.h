#pragma once
// The one place where diffbench depends on which LibTorch it was built with (1.13 on Debian 12, 2.x
// on Debian 13 and pip) beyond the APIs both have: process-wide runtime settings and the known
// faults of a version on this kind of machine.

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

}  // namespace diffbench
