// FP8 GEMM time by scaling recipe on one GPU: BF16, FP8 with one scale a tensor, and FP8 with
// DeepSeek-V3's fine-grained scales (weights one a 128x128 block, activations one a 1x128 slice:
// cuBLASLt's BLK128x128 and VEC128 modes), at DeepSeek-V3's GEMM shapes. Weights rotate over
// copies that together exceed L2, as a model's layers do. Prints one JSON object
// (docs/measurements/README.md, "Block-scaled FP8 GEMMs"; merged by profiler/merge_block_fp8.py).
//   nvcc -O2 -std=c++17 -arch=sm_90 profiler/measure_block_fp8.cpp -lcublasLt -o measure_block_fp8
#include <cublasLt.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#define CK(call) check_cuda((call), #call, __LINE__)
#define CKB(call) check_cublas((call), #call, __LINE__)

namespace {

void check_cuda(cudaError_t status, const char* what, int line) {
  if (status == cudaSuccess) return;
  std::fprintf(stderr, "measure_block_fp8.cpp:%d %s: %s\n", line, what, cudaGetErrorString(status));
  std::exit(1);
}

void check_cublas(cublasStatus_t status, const char* what, int line) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  std::fprintf(stderr, "measure_block_fp8.cpp:%d %s: cuBLAS status %d\n", line, what,
               static_cast<int>(status));
  std::exit(1);
}

enum class Recipe { kBf16, kFp8Tensor, kFp8Block };

struct Shape {
  const char* what;
  int n, k;
};

// Device buffers of one case: `copies` weight matrices, the activations, the output and two scale
// arrays of ones large enough for either scaling mode.
struct Buffers {
  std::vector<void*> weights;
  void *act = nullptr, *out = nullptr, *scale_a = nullptr, *scale_b = nullptr;

  Buffers(int rows, int n, int k, size_t elem) {
    const size_t weight_bytes = size_t(n) * k * elem;
    const int copies = int(std::max<size_t>(1, (size_t(256) << 20) / weight_bytes + 1));
    weights.resize(copies);
    for (void*& w : weights) {
      CK(cudaMalloc(&w, weight_bytes));
      CK(cudaMemset(w, 0x11, weight_bytes));
    }
    CK(cudaMalloc(&act, size_t(rows) * k * elem));
    CK(cudaMemset(act, 0x11, size_t(rows) * k * elem));
    CK(cudaMalloc(&out, size_t(rows) * n * 2));
    const size_t blocks = size_t(k + 127) / 128;
    const size_t scales = (size_t(n + 127) + size_t(rows + 127)) * blocks * 128 + 1024;
    const std::vector<float> ones(scales, 1.0f);
    for (void** s : {&scale_a, &scale_b}) {
      CK(cudaMalloc(s, scales * 4));
      CK(cudaMemcpy(*s, ones.data(), scales * 4, cudaMemcpyHostToDevice));
    }
  }
  ~Buffers() {
    for (void* w : weights) CK(cudaFree(w));
    for (void* p : {act, out, scale_a, scale_b}) CK(cudaFree(p));
  }
};

// One GEMM's cuBLASLt description: out[rows x n] = act[rows x k] . weights[n x k]^T, the operands
// k-major (cuBLAS's m is our n), scaled as `recipe` says.
struct Plan {
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;

  Plan(Recipe recipe, int rows, int n, int k, const Buffers& buffers) {
    CKB(cublasLtMatmulDescCreate(&desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    const cublasOperation_t transpose = CUBLAS_OP_T, keep = CUBLAS_OP_N;
    set(CUBLASLT_MATMUL_DESC_TRANSA, &transpose, sizeof transpose);
    set(CUBLASLT_MATMUL_DESC_TRANSB, &keep, sizeof keep);
    const bool fp8 = recipe != Recipe::kBf16;
    if (recipe == Recipe::kFp8Block) {
      const int32_t weights_mode = CUBLASLT_MATMUL_MATRIX_SCALE_BLK128x128_32F;
      const int32_t activations_mode = CUBLASLT_MATMUL_MATRIX_SCALE_VEC128_32F;
      set(CUBLASLT_MATMUL_DESC_A_SCALE_MODE, &weights_mode, sizeof weights_mode);
      set(CUBLASLT_MATMUL_DESC_B_SCALE_MODE, &activations_mode, sizeof activations_mode);
    }
    if (fp8) {
      set(CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, &buffers.scale_a, sizeof buffers.scale_a);
      set(CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, &buffers.scale_b, sizeof buffers.scale_b);
    }
    const cudaDataType_t in = fp8 ? CUDA_R_8F_E4M3 : CUDA_R_16BF;
    CKB(cublasLtMatrixLayoutCreate(&a, in, k, n, k));
    CKB(cublasLtMatrixLayoutCreate(&b, in, k, rows, k));
    CKB(cublasLtMatrixLayoutCreate(&c, CUDA_R_16BF, n, rows, n));
  }
  void set(cublasLtMatmulDescAttributes_t attribute, const void* value, size_t size) {
    CKB(cublasLtMatmulDescSetAttribute(desc, attribute, value, size));
  }
  ~Plan() {
    for (cublasLtMatrixLayout_t layout : {a, b, c}) CKB(cublasLtMatrixLayoutDestroy(layout));
    CKB(cublasLtMatmulDescDestroy(desc));
  }
};

struct Workspace {
  void* data = nullptr;
  size_t bytes = size_t(32) << 20;  // cuBLAS's Hopper advice, as kernels/grouped_gemm.cpp
};

// cuBLASLt's first heuristic algorithm for `plan`; false when it has none.
bool pick_algorithm(cublasLtHandle_t lt, const Plan& plan, const Workspace& workspace,
                    cublasLtMatmulAlgo_t& algorithm) {
  cublasLtMatmulPreference_t preference;
  CKB(cublasLtMatmulPreferenceCreate(&preference));
  CKB(cublasLtMatmulPreferenceSetAttribute(preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                           &workspace.bytes, sizeof workspace.bytes));
  cublasLtMatmulHeuristicResult_t heuristic{};
  int found = 0;
  const cublasStatus_t status = cublasLtMatmulAlgoGetHeuristic(
      lt, plan.desc, plan.a, plan.b, plan.c, plan.c, preference, 1, &heuristic, &found);
  CKB(cublasLtMatmulPreferenceDestroy(preference));
  algorithm = heuristic.algo;
  return status == CUBLAS_STATUS_SUCCESS && found > 0;
}

// Median of 30 single-GEMM times (CUDA events) after 10 warm-up GEMMs, the weights rotating over
// their copies; -1 when cuBLASLt has no algorithm for the recipe and shape.
double time_gemm(cublasLtHandle_t lt, Recipe recipe, int rows, const Shape& shape,
                 const Workspace& workspace) {
  const Buffers buffers(rows, shape.n, shape.k, recipe == Recipe::kBf16 ? 2 : 1);
  const Plan plan(recipe, rows, shape.n, shape.k, buffers);
  cublasLtMatmulAlgo_t algorithm;
  if (!pick_algorithm(lt, plan, workspace, algorithm)) return -1;
  const float alpha = 1, beta = 0;
  const auto once = [&](int i) {
    CKB(cublasLtMatmul(lt, plan.desc, &alpha, buffers.weights[i % buffers.weights.size()], plan.a,
                       buffers.act, plan.b, &beta, buffers.out, plan.c, buffers.out, plan.c,
                       &algorithm, workspace.data, workspace.bytes, 0));
  };
  for (int i = 0; i < 10; ++i) once(i);
  CK(cudaDeviceSynchronize());
  cudaEvent_t start, stop;
  CK(cudaEventCreate(&start));
  CK(cudaEventCreate(&stop));
  std::vector<float> ms(30);
  for (size_t i = 0; i < ms.size(); ++i) {
    CK(cudaEventRecord(start));
    once(int(i));
    CK(cudaEventRecord(stop));
    CK(cudaEventSynchronize(stop));
    CK(cudaEventElapsedTime(&ms[i], start, stop));
  }
  CK(cudaEventDestroy(start));
  CK(cudaEventDestroy(stop));
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

int main() {
  cudaDeviceProp prop{};
  CK(cudaGetDeviceProperties(&prop, 0));
  cublasLtHandle_t lt;
  CKB(cublasLtCreate(&lt));
  Workspace workspace;
  CK(cudaMalloc(&workspace.data, workspace.bytes));
  // DeepSeek-V3 (config.json): hidden 7168, expert FFN 2048, q_lora 1536, kv_lora 512, 128 heads
  // of 128 + 64 (rope) for q and k, 128 for v.
  const Shape shapes[] = {{"expert_gate_up", 4096, 7168}, {"expert_down", 7168, 2048},
                          {"q_a_kv_a", 2112, 7168},       {"q_b", 24576, 1536},
                          {"kv_b", 32768, 512},           {"o_proj", 7168, 16384}};
  std::printf("{\n \"gpu\": \"%s\",\n \"cases\": [\n", prop.name);
  const char* separator = "";
  for (const Shape& shape : shapes)
    for (int rows : {16, 64, 256, 1024, 4096, 16384}) {
      double ms[3];
      for (Recipe r : {Recipe::kBf16, Recipe::kFp8Tensor, Recipe::kFp8Block})
        ms[int(r)] = time_gemm(lt, r, rows, shape, workspace);
      std::printf(
          "%s  {\"gemm\": \"%s\", \"rows\": %d, \"n\": %d, \"k\": %d, \"bf16_ms\": %.5f, "
          "\"fp8_tensor_ms\": %.5f, \"fp8_block128_ms\": %.5f}",
          separator, shape.what, rows, shape.n, shape.k, ms[0], ms[1], ms[2]);
      separator = ",\n";
      std::fflush(stdout);
    }
  std::printf("\n ]\n}\n");
  CK(cudaFree(workspace.data));
  CKB(cublasLtDestroy(lt));
  return 0;
}
