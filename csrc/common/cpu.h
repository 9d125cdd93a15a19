// Helpers shared by the CPU halves of the kernel families.
#pragma once

#include <cstdint>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

// The package is built for baseline x86-64; on x86-64 Linux with GCC/Clang a function marked
// PYDISENT_CLONES also gets AVX-512 and AVX2 versions, one picked once at load time (no -march=native).
#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__))
#define PYDISENT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define PYDISENT_CLONES
#endif

namespace pydisent {

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
