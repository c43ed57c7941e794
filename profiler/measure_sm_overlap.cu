// What a communication kernel that copies with a few whole SMs (as DeepEP's normal kernels hold
// 20-24 SMs while they move rows) and compute running beside it do to each other on one GPU:
//   copy_alone_*         the copy kernel's bandwidth on its own;
//   *_beside_*           a BF16 GEMM (on the SMs the copy leaves: cuBLAS's SM count target) or a
//                        memory-bound elementwise kernel beside the copy: each one's slowdown;
//   late_copy_*          a fixed copy launched 1 ms into a train of GEMMs on all SMs, on the rest
//                        only, or on all SMs with the copy's stream at the highest priority;
//   paced[]              the GEMM and the elementwise kernel beside a copy held to 25-400 GB/s on
//                        8-32 SMs;
//   shapes[]             a prefill layer's GEMMs beside a copy on 20 or 24 SMs at 100 GB/s.
// The copy never waits on the compute: a first version that spun until the compute finished hung
// (a GEMM's CTAs can wait on CTAs that the spinning copy keeps off the SMs). Prints one JSON object
// (docs/measurements/README.md, "SM-resident copies beside compute").
//   nvcc -O2 -std=c++17 -arch=sm_90 profiler/measure_sm_overlap.cu -lcublas -o measure_sm_overlap
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#define CK(call) check_cuda((call), #call, __LINE__)
#define CKB(call) check_cublas((call), #call, __LINE__)

namespace {

void check_cuda(cudaError_t status, const char* what, int line) {
  if (status == cudaSuccess) return;
  std::fprintf(stderr, "measure_sm_overlap.cu:%d %s: %s\n", line, what, cudaGetErrorString(status));
  std::exit(1);
}

void check_cublas(cublasStatus_t status, const char* what, int line) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  std::fprintf(stderr, "measure_sm_overlap.cu:%d %s: cuBLAS status %d\n", line, what,
               static_cast<int>(status));
  std::exit(1);
}

constexpr int kCopyThreads = 1024;
constexpr int kCopySmem = 160 * 1024;  // one copy block an SM, as a comm kernel owns its SMs
constexpr size_t kCopyBytes = size_t(1) << 30;
constexpr size_t kGemmBufferElems = size_t(16384) * 24576;  // the largest operand of any shape

struct CopyStats {
  unsigned long long bytes, start_ns, end_ns;
};

__device__ unsigned long long now_ns() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %globaltimer;" : "=l"(t));
  return t;
}

// Each block copies its slice of the buffer `passes` times; it never waits on other kernels (a
// copy that spun until the compute beside it finished could starve a GEMM's cooperating CTAs).
// Windowed, it counts only what it moved while *flag was 1 (the compute beside it running) and
// stops when it first sees 2. Paced (pace_ns > 0), a block starts its n-th chunk no earlier than
// n x pace_ns after it began, as a link-bound transfer issues rows no faster than its link drains
// them. 16-byte loads and stores, as DeepEP's warps move rows. Thread 0 keeps the block's books.
__global__ void __launch_bounds__(kCopyThreads)
    copy_kernel(const uint4* src, uint4* dst, size_t vecs, int passes, bool windowed,
                int vecs_per_thread, unsigned long long pace_ns, volatile int* flag,
                CopyStats* stats) {
  extern __shared__ char reserve[];
  __shared__ int stop;
  if (threadIdx.x == 0) reserve[0] = 0, stop = 0;
  const unsigned long long begin = now_ns();
  unsigned long long t0 = windowed ? 0 : begin, t1 = 0, moved = 0, chunks = 0;
  const size_t per_block = vecs / gridDim.x;
  const uint4* s = src + blockIdx.x * per_block;
  uint4* d = dst + blockIdx.x * per_block;
  const size_t chunk = size_t(kCopyThreads) * vecs_per_thread;
  bool done = false;  // every thread's copy of `stop`, read between two barriers
  for (int pass = 0; pass < passes && !done; ++pass) {
    for (size_t base = 0; base + chunk <= per_block && !done; base += chunk) {
      for (size_t i = base + threadIdx.x; i < base + chunk; i += kCopyThreads) d[i] = s[i];
      if (threadIdx.x == 0) {
        const int state = windowed ? *flag : 1;
        if (state == 2 && t0 != 0)
          t1 = now_ns(), stop = 1;
        else if (state == 1 && t0 == 0)
          t0 = now_ns();
        else if (state == 1)
          moved += chunk * 16;
        ++chunks;
        while (pace_ns != 0 && now_ns() < begin + chunks * pace_ns) __nanosleep(256);
      }
      __syncthreads();
      done = stop;
      __syncthreads();
    }
  }
  if (threadIdx.x == 0 && t0 != 0) {
    atomicAdd(&stats->bytes, moved);
    atomicMin(&stats->start_ns, t0);
    atomicMax(&stats->end_ns, t1 != 0 ? t1 : now_ns());
  }
}

__global__ void set_flag(int* flag, int value) { *flag = value; }

__global__ void scale_kernel(const float4* x, float4* y, size_t n) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n;
       i += size_t(gridDim.x) * blockDim.x) {
    float4 v = x[i];
    y[i] = make_float4(v.x * 1.5f + 1, v.y * 1.5f + 1, v.z * 1.5f + 1, v.w * 1.5f + 1);
  }
}

struct Bench {
  cudaStream_t a, b, urgent;  // compute, copy, copy at the highest priority
  cublasHandle_t blas;
  __nv_bfloat16 *ga, *gb, *gc;
  int m = 8192, n = 4096, k = 7168;  // a prefill expert GEMM: 8,192 rows, DeepSeek-V3's gate_up
  int batch = 1;                     // > 1: that many experts' GEMMs in one strided-batched call
  uint4 *src, *dst;
  float4 *ex, *ey;
  size_t elems = size_t(64) << 20;  // float4s: 1 GiB in, 1 GiB out
  CopyStats* stats;
  int* flag;
  cudaEvent_t e0, e1, e2, e3;
  int sms = 0;
};

void gemm_train(Bench& B, int count, int sm_target) {
  CKB(cublasSetSmCountTarget(B.blas, sm_target));
  const float alpha = 1, beta = 0;
  const long long a = static_cast<long long>(B.n) * B.k, b = static_cast<long long>(B.m) * B.k,
                  c = static_cast<long long>(B.m) * B.n;
  for (int i = 0; i < count; ++i)
    CKB(cublasGemmStridedBatchedEx(B.blas, CUBLAS_OP_T, CUBLAS_OP_N, B.n, B.m, B.k, &alpha, B.ga,
                                   CUDA_R_16BF, B.k, a, B.gb, CUDA_R_16BF, B.k, b, &beta, B.gc,
                                   CUDA_R_16BF, B.n, c, B.batch, CUBLAS_COMPUTE_32F,
                                   CUBLAS_GEMM_DEFAULT));
}

void scale_train(Bench& B, int count) {
  for (int i = 0; i < count; ++i) scale_kernel<<<132 * 8, 256, 0, B.a>>>(B.ex, B.ey, B.elems);
  CK(cudaGetLastError());
}

void reset_stats(Bench& B) {
  CopyStats init{0, ~0ull, 0};
  CK(cudaMemcpy(B.stats, &init, sizeof init, cudaMemcpyHostToDevice));
  CK(cudaMemset(B.flag, 0, sizeof(int)));
}

double gbps(Bench& B) {
  CopyStats s{};
  CK(cudaMemcpy(&s, B.stats, sizeof s, cudaMemcpyDeviceToHost));
  return double(s.bytes) / double(s.end_ns - s.start_ns);  // bytes/ns = GB/s
}

float elapsed(cudaEvent_t x, cudaEvent_t y) {
  float ms = 0;
  CK(cudaEventElapsedTime(&ms, x, y));
  return ms;
}

// A copy on `sms` SMs; paced to `paced_GBps` (bytes copied, not counting the read) when above 0.
void launch_copy(Bench& B, int sms, int passes, bool windowed = false, bool urgent = false,
                 double paced_GBps = 0) {
  const int vecs_per_thread = paced_GBps > 0 ? 8 : 64;  // 128 KiB or 1 MiB a block a chunk
  const double chunk_bytes = double(kCopyThreads) * vecs_per_thread * 16;
  const auto pace_ns =
      paced_GBps > 0 ? static_cast<unsigned long long>(chunk_bytes * sms / paced_GBps) : 0ull;
  copy_kernel<<<sms, kCopyThreads, kCopySmem, urgent ? B.urgent : B.b>>>(
      B.src, B.dst, kCopyBytes / 16, passes, windowed, vecs_per_thread, pace_ns, B.flag, B.stats);
  CK(cudaGetLastError());
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The copy alone, 2 passes of 1 GiB: its bandwidth and its time.
void copy_alone(Bench& B, int copy_sms, std::vector<double>& bandwidth, std::vector<double>& ms) {
  reset_stats(B);
  CK(cudaEventRecord(B.e0, B.b));
  launch_copy(B, copy_sms, 2);
  CK(cudaEventRecord(B.e1, B.b));
  CK(cudaDeviceSynchronize());
  bandwidth.push_back(gbps(B));
  ms.push_back(elapsed(B.e0, B.e1));
}

// `train` (kernels on the compute stream, `count` of them) alone, then beside a windowed copy:
// the train's time a kernel alone and beside, and the copy's bandwidth while the train ran.
template <typename Train>
void beside(Bench& B, int copy_sms, int count, Train&& train, std::vector<double>& alone,
            std::vector<double>& with_copy, std::vector<double>& copy_bandwidth,
            double paced_GBps = 0) {
  CK(cudaEventRecord(B.e0, B.a));
  train(count);
  CK(cudaEventRecord(B.e1, B.a));
  CK(cudaDeviceSynchronize());
  alone.push_back(elapsed(B.e0, B.e1) / count);
  reset_stats(B);
  launch_copy(B, copy_sms, 12, true, false, paced_GBps);
  usleep(500);
  set_flag<<<1, 1, 0, B.a>>>(B.flag, 1);
  CK(cudaEventRecord(B.e0, B.a));
  train(count);
  CK(cudaEventRecord(B.e1, B.a));
  set_flag<<<1, 1, 0, B.a>>>(B.flag, 2);
  CK(cudaGetLastError());
  CK(cudaDeviceSynchronize());
  with_copy.push_back(elapsed(B.e0, B.e1) / count);
  copy_bandwidth.push_back(gbps(B));
}

// A fixed 2-pass copy launched 1 ms into a train of 20 GEMMs: mode 0, the GEMMs on all SMs; 1, on
// the SMs the copy leaves; 2, on all SMs with the copy's stream at the highest priority. The
// copy's time from its launch to its end.
double late_copy(Bench& B, int copy_sms, int mode) {
  reset_stats(B);
  gemm_train(B, 20, mode == 1 ? B.sms - copy_sms : 0);
  usleep(1000);
  const cudaStream_t stream = mode == 2 ? B.urgent : B.b;
  CK(cudaEventRecord(B.e2, stream));
  launch_copy(B, copy_sms, 2, false, mode == 2);
  CK(cudaEventRecord(B.e3, stream));
  CK(cudaDeviceSynchronize());
  return elapsed(B.e2, B.e3);
}

// Every phase for one copy width, `reps` times; one JSON member of medians.
void measure(Bench& B, int copy_sms, int reps) {
  const int rest = B.sms - copy_sms;
  std::vector<double> bw_alone, ms_alone, gemm_alone, gemm_beside, bw_gemm, scale_alone,
      scale_beside, bw_scale, late[3];
  const auto gemms = [&](int count) { gemm_train(B, count, rest); };
  const auto scales = [&](int count) { scale_train(B, count); };
  for (int r = 0; r < reps; ++r) {
    std::fprintf(stderr, "%d SMs rep %d\n", copy_sms, r);
    copy_alone(B, copy_sms, bw_alone, ms_alone);
    beside(B, copy_sms, 10, gemms, gemm_alone, gemm_beside, bw_gemm);
    beside(B, copy_sms, 10, scales, scale_alone, scale_beside, bw_scale);
    for (int mode : {0, 1, 2}) late[mode].push_back(late_copy(B, copy_sms, mode));
  }
  std::printf(
      " \"copy_sms_%d\": {\"copy_alone_GBps\": %.1f, \"copy_alone_ms\": %.4f, "
      "\"gemm_alone_ms\": %.4f, \"gemm_beside_copy_ms\": %.4f, \"copy_beside_gemm_GBps\": %.1f, "
      "\"scale_alone_ms\": %.4f, \"scale_beside_copy_ms\": %.4f, \"copy_beside_scale_GBps\": %.1f, "
      "\"late_copy_gemm_all_sms_ms\": %.4f, \"late_copy_gemm_rest_sms_ms\": %.4f, "
      "\"late_copy_gemm_all_sms_urgent_ms\": %.4f},\n",
      copy_sms, median(bw_alone), median(ms_alone), median(gemm_alone), median(gemm_beside),
      median(bw_gemm), median(scale_alone), median(scale_beside), median(bw_scale), median(late[0]),
      median(late[1]), median(late[2]));
}

// The GEMM (on the SMs the copy leaves, and asked for all SMs) and the elementwise kernel beside a
// copy paced to each rate (DeepEP's normal kernels move 100-300 GB/s a GPU at link speed, far
// below a free copy): whether the slowdown grows with the bytes moved or with the SMs held. One
// JSON array member a width and rate, medians of `reps`.
void measure_paced(Bench& B, int reps) {
  std::printf(" \"paced\": [\n");
  bool first = true;
  for (int copy_sms : {8, 16, 20, 24, 32}) {
    for (double rate : {25.0, 100.0, 400.0}) {
      std::vector<double> gemm_alone, gemm_beside, bw_gemm, all_alone, all_beside, bw_all,
          scale_alone, scale_beside, bw_scale;
      const auto gemms = [&](int count) { gemm_train(B, count, B.sms - copy_sms); };
      const auto all_sm_gemms = [&](int count) { gemm_train(B, count, 0); };
      const auto scales = [&](int count) { scale_train(B, count); };
      for (int r = 0; r < reps; ++r) {
        beside(B, copy_sms, 10, gemms, gemm_alone, gemm_beside, bw_gemm, rate);
        beside(B, copy_sms, 10, all_sm_gemms, all_alone, all_beside, bw_all, rate);
        beside(B, copy_sms, 10, scales, scale_alone, scale_beside, bw_scale, rate);
      }
      std::printf(
          "%s  {\"copy_sms\": %d, \"paced_GBps\": %.0f, \"gemm_rest_alone_ms\": %.4f, "
          "\"gemm_rest_beside_copy_ms\": %.4f, \"copy_beside_gemm_GBps\": %.1f, "
          "\"gemm_all_alone_ms\": %.4f, \"gemm_all_beside_copy_ms\": %.4f, "
          "\"scale_alone_ms\": %.4f, \"scale_beside_copy_ms\": %.4f, "
          "\"copy_beside_scale_GBps\": %.1f}",
          first ? "" : ",\n", copy_sms, rate, median(gemm_alone), median(gemm_beside),
          median(bw_gemm), median(all_alone), median(all_beside), median(scale_alone),
          median(scale_beside), median(bw_scale));
      first = false;
    }
  }
  std::printf("\n ],\n");
}

// GEMMs of a DeepSeek-V3 prefill layer beside a copy on 20 or 24 SMs paced to 100 GB/s, each told
// the SMs left ("rest", as SGLang hands DeepGEMM the SMs DeepEP leaves) and told nothing ("all"),
// against the same GEMM alone on every SM. Restores the default shape.
void measure_shapes(Bench& B, int reps) {
  struct Shape {
    const char* name;
    int m, n, k, batch;
  };
  const Shape shapes[] = {
      {"expert_gate_up_2048", 2048, 4096, 7168, 1},    {"expert_gate_up_8192", 8192, 4096, 7168, 1},
      {"expert_gate_up_16384", 16384, 4096, 7168, 1},  {"expert_down_8192", 8192, 7168, 2048, 1},
      {"experts_gate_up_8x2048", 2048, 4096, 7168, 8}, {"experts_down_8x2048", 2048, 7168, 2048, 8},
      {"q_up_16384", 16384, 24576, 1536, 1},           {"o_proj_16384", 16384, 7168, 16384, 1}};
  std::printf(" \"shapes\": [\n");
  bool first = true;
  for (int copy_sms : {20, 24}) {
    for (const Shape& shape : shapes) {
      B.m = shape.m, B.n = shape.n, B.k = shape.k, B.batch = shape.batch;
      std::vector<double> full, rest_alone, rest_beside, all_alone, all_beside, bw_rest, bw_all;
      for (int r = 0; r < reps; ++r) {
        beside(
            B, copy_sms, 10, [&](int count) { gemm_train(B, count, B.sms - copy_sms); }, rest_alone,
            rest_beside, bw_rest, 100);
        beside(
            B, copy_sms, 10, [&](int count) { gemm_train(B, count, 0); }, all_alone, all_beside,
            bw_all, 100);
      }
      std::printf(
          "%s  {\"copy_sms\": %d, \"gemm\": \"%s\", \"mnk\": [%d, %d, %d], "
          "\"all_alone_ms\": %.4f, \"rest_alone_ms\": %.4f, \"rest_beside_copy_ms\": %.4f, "
          "\"all_beside_copy_ms\": %.4f}",
          first ? "" : ",\n", copy_sms, shape.name, shape.m, shape.n, shape.k, median(all_alone),
          median(rest_alone), median(rest_beside), median(all_beside));
      first = false;
    }
  }
  std::printf("\n ],\n");
  B.m = 8192, B.n = 4096, B.k = 7168, B.batch = 1;
}

void setup(Bench& B) {
  int priority_low, priority_high;
  CK(cudaDeviceGetStreamPriorityRange(&priority_low, &priority_high));
  CK(cudaStreamCreateWithFlags(&B.a, cudaStreamNonBlocking));
  CK(cudaStreamCreateWithFlags(&B.b, cudaStreamNonBlocking));
  CK(cudaStreamCreateWithPriority(&B.urgent, cudaStreamNonBlocking, priority_high));
  CKB(cublasCreate(&B.blas));
  CKB(cublasSetStream(B.blas, B.a));
  for (__nv_bfloat16** operand : {&B.ga, &B.gb, &B.gc}) {
    CK(cudaMalloc(operand, kGemmBufferElems * 2));
    CK(cudaMemset(*operand, 0, kGemmBufferElems * 2));
  }
  CK(cudaMalloc(&B.src, kCopyBytes));
  CK(cudaMalloc(&B.dst, kCopyBytes));
  CK(cudaMemset(B.src, 1, kCopyBytes));
  CK(cudaMalloc(&B.ex, B.elems * 16));
  CK(cudaMalloc(&B.ey, B.elems * 16));
  CK(cudaMemset(B.ex, 0, B.elems * 16));
  CK(cudaMalloc(&B.stats, sizeof(CopyStats)));
  CK(cudaMalloc(&B.flag, sizeof(int)));
  CK(cudaFuncSetAttribute(copy_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, kCopySmem));
  for (cudaEvent_t* e : {&B.e0, &B.e1, &B.e2, &B.e3}) CK(cudaEventCreate(e));
}

}  // namespace

int main() {
  std::setvbuf(stdout, nullptr, _IONBF, 0);
  Bench B;
  setup(B);
  cudaDeviceProp prop{};
  CK(cudaGetDeviceProperties(&prop, 0));
  B.sms = prop.multiProcessorCount;
  const int reps = 5;
  std::printf("{\n \"gpu\": \"%s\", \"sms\": %d, \"gemm\": [%d, %d, %d], \"copy_bytes\": %zu,\n",
              prop.name, B.sms, B.m, B.n, B.k, kCopyBytes);
  gemm_train(B, 3, 0);  // warm up every kernel once
  scale_train(B, 2);
  reset_stats(B);
  launch_copy(B, 20, 1);
  CK(cudaDeviceSynchronize());
  for (int copy_sms : {20, 24}) measure(B, copy_sms, reps);
  measure_paced(B, reps);
  measure_shapes(B, reps);
  std::vector<double> gemm_full;
  for (int r = 0; r < reps; ++r) {
    CK(cudaEventRecord(B.e0, B.a));
    gemm_train(B, 20, 0);
    CK(cudaEventRecord(B.e1, B.a));
    CK(cudaDeviceSynchronize());
    gemm_full.push_back(elapsed(B.e0, B.e1) / 20);
  }
  std::printf(" \"gemm_all_sms_ms\": %.4f, \"reps\": %d\n}\n", median(gemm_full), reps);
  return 0;
}
