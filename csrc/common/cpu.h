// CPU instruction-set variants, and helpers shared by the CPU halves of the kernel families.
//
// The package is built for baseline x86-64 (no -march=native: a wheel must run on any x86-64 CPU).
// A kernel that gains from wider vectors is compiled more than once, and ONE mechanism, the one in
// this header, chooses among the copies at run time, for every family:
//
//   * Levels: cpu::Isa::Generic (the baseline; 16-byte SSE2 vectors), Avx2 (needs AVX2 + FMA) and
//     Avx512 (needs AVX-512F/BW + AVX2 + FMA). cpu::host_isa() is the best level this CPU and this
//     build support (cpuid, once).
//   * Compiling a variant: a function gets a target attribute, PYDISENT_TARGET_AVX2 (no FMA: kernels
//     that promise the same bits on every variant use this one), PYDISENT_TARGET_AVX2_FMA,
//     PYDISENT_TARGET_AVX512 or PYDISENT_TARGET_AVX512BW (byte kernels). The target strings are part
//     of a kernel's numbers (they steer vectorisation and FMA contraction; "avx512f" and
//     "avx512f,avx512bw,avx2,fma" give different last bits in the PCA), so they are fixed here.
//     A whole file of templates (the distance kernel) uses the same targets as a pragma block,
//     PYDISENT_BEGIN_TARGET_* ... PYDISENT_END_TARGET, after its #includes; its functions must then
//     have internal linkage (an anonymous namespace), so the linker can never merge an AVX copy of an
//     inline function with the portable one.
//     PYDISENT_CPU_VARIANTS writes the generic/AVX2/AVX-512 copies of a leaf function from one
//     always-inline body (the compiler vectorises the inlined body once per target).
//   * Choosing: cpu::pick(level, generic, avx2, avx512) returns the function pointer of the level
//     (falling back to the next lower one that exists); kernels call it once (a function-local
//     static) with cpu::isa() or cpu::isa("PYDISENT_<FAMILY>_GENERIC").
//   * Forcing the portable variant: PYDISENT_CPU_GENERIC=1 in the environment makes cpu::isa() return
//     Generic for every family (read at the first kernel call of the process); a family may accept
//     its own variable as well (PYDISENT_RIPS_GENERIC=1, kept from before, for the Rips engine). The
//     tests run every family both ways and compare: see tests/ops/test_cpu_variants.py for which
//     kernels promise bit-identical results across levels and which promise a tolerance (FMA).
//
// Other compilers and architectures build the portable code alone (every level maps to Generic).
#pragma once

#include <cstdint>
#include <cstdlib>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(__CUDACC__)
#define PYDISENT_X86_VARIANTS 1
#define PYDISENT_TARGET_AVX2 __attribute__((target("avx2")))
#define PYDISENT_TARGET_AVX2_FMA __attribute__((target("avx2,fma")))
#define PYDISENT_TARGET_AVX512 __attribute__((target("avx512f")))  // GCC: implies AVX2 and FMA
#define PYDISENT_TARGET_AVX512BW __attribute__((target("avx512f,avx512bw")))
#define PYDISENT_BEGIN_TARGET_AVX2_FMA _Pragma("GCC push_options") _Pragma("GCC target(\"avx2,fma\")")
#define PYDISENT_BEGIN_TARGET_AVX512 \
  _Pragma("GCC push_options") _Pragma("GCC target(\"avx512f,avx2,fma\")")
#define PYDISENT_END_TARGET _Pragma("GCC pop_options")
#else
#define PYDISENT_TARGET_AVX2
#define PYDISENT_TARGET_AVX2_FMA
#define PYDISENT_TARGET_AVX512
#define PYDISENT_TARGET_AVX512BW
#define PYDISENT_BEGIN_TARGET_AVX2_FMA
#define PYDISENT_BEGIN_TARGET_AVX512
#define PYDISENT_END_TARGET
#endif

#if defined(__GNUC__) || defined(__clang__)
#define PYDISENT_VARIANT_BODY static inline __attribute__((always_inline))
#else
#define PYDISENT_VARIANT_BODY static inline
#endif

namespace pydisent {
namespace cpu {

enum class Isa : int { Generic = 0, Avx2 = 1, Avx512 = 2 };

inline const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return "avx512";
    case Isa::Avx2: return "avx2";
    case Isa::Generic: return "generic";
  }
  return "generic";
}

// The best level this CPU supports among those this build has variants for.
inline Isa host_isa() {
  static const Isa best = [] {
#if defined(PYDISENT_X86_VARIANTS)
    __builtin_cpu_init();
    const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")) return Isa::Avx512;
    if (avx2) return Isa::Avx2;
#endif
    return Isa::Generic;
  }();
  return best;
}

inline bool env_flag(const char* name) {
  const char* v = name ? std::getenv(name) : nullptr;
  return v && v[0] == '1' && v[1] == '\0';
}

// True when PYDISENT_CPU_GENERIC=1 (read once per process).
inline bool generic_forced() {
  static const bool forced = env_flag("PYDISENT_CPU_GENERIC");
  return forced;
}

// The level a kernel should run: host_isa(), or Generic when PYDISENT_CPU_GENERIC=1 or the family's
// own variable (e.g. "PYDISENT_RIPS_GENERIC") is 1.
inline Isa isa(const char* family_env = nullptr) {
  if (generic_forced() || env_flag(family_env)) return Isa::Generic;
  return host_isa();
}

// The variant of `level`, or the next lower one that exists (pass nullptr for a level a kernel has no
// variant for).
template <class Fn>
Fn pick(Isa level, Fn generic, Fn avx2, Fn avx512) {
  if (level == Isa::Avx512 && avx512) return avx512;
  if (level >= Isa::Avx2 && avx2) return avx2;
  return generic;
}

}  // namespace cpu

// PYDISENT_CPU_VARIANTS(ret, name, params, args) defines name_generic, name_avx2 (PYDISENT_TARGET_AVX2,
// no FMA), name_avx512 and a dispatcher `ret name params` from the body
// `PYDISENT_VARIANT_BODY ret name_body params`, chosen once with cpu::isa(). Leaf functions only
// (no OpenMP region inside: the outlined region would not inherit the target).
#define PYDISENT_CPU_VARIANTS(ret, name, params, args)                                                   \
  ret name##_generic params { return name##_body args; }                                                \
  PYDISENT_TARGET_AVX2 ret name##_avx2 params { return name##_body args; }                              \
  PYDISENT_TARGET_AVX512 ret name##_avx512 params { return name##_body args; }                          \
  ret name params {                                                                                     \
    static const auto fn = ::pydisent::cpu::pick(::pydisent::cpu::isa(), &name##_generic, &name##_avx2, \
                                                 &name##_avx512);                                       \
    return fn args;                                                                                     \
  }

// The same with a generic and an AVX2 copy only (no FMA anywhere), for kernels that promise the same
// bits on every level; `family_env` is the family's own override (or nullptr).
#define PYDISENT_CPU_VARIANTS_NO_FMA(family_env, ret, name, params, args)                                \
  ret name##_generic params { return name##_body args; }                                                \
  PYDISENT_TARGET_AVX2 ret name##_avx2 params { return name##_body args; }                              \
  ret name params {                                                                                     \
    static const auto fn =                                                                              \
        ::pydisent::cpu::pick<decltype(&name##_generic)>(::pydisent::cpu::isa(family_env), &name##_generic, \
                                                          &name##_avx2, nullptr);                       \
    return fn args;                                                                                     \
  }

// Large outputs are freshly allocated by torch on every call, and first-touch page faults on 4 KiB
// pages can cost more than the kernel itself (70 ms for a 100 MB distance matrix on the development VM,
// 10 ms with 2 MiB pages). Asking for transparent huge pages on the page-aligned interior of a buffer of
// at least 8 MiB, before it is first written, is purely advisory: it changes no data, errors are ignored,
// the memory stays torch's (torch does the same for all its allocations when THP_MEM_ALLOC_ENABLE=1).
inline void advise_huge_pages(void* ptr, int64_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (bytes < (int64_t(8) << 20)) return;
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(ptr) + page - 1) / page * page;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(ptr) + static_cast<uintptr_t>(bytes)) / page * page;
  if (end > begin) (void)madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#else
  (void)ptr;
  (void)bytes;
#endif
}

}  // namespace pydisent
