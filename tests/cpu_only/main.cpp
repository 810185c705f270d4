// Loads a TorchScript UNet, runs one forward call on the CPU, and says whether CUDA is reachable.
#include <torch/script.h>

#include <iostream>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: cpu_only MODEL.pt\n";
    return 2;
  }
  torch::jit::Module unet = torch::jit::load(argv[1]);
  torch::NoGradGuard no_grad;
  at::Tensor x = torch::randn({1, 4, 8, 8});
  at::Tensor out = unet.forward({x, torch::tensor(500.0)}).toTensor();
  std::cout << "forward " << out.sizes() << " finite " << out.isfinite().all().item<bool>() << " cuda "
            << at::hasCUDA() << "\n";
  return out.sizes() == x.sizes() && out.isfinite().all().item<bool>() && !at::hasCUDA() ? 0 : 1;
}
