/*
 * nvjpeg_decl_check.c — checks the nvJPEG declarations that src/io/nvjpeg.c writes by hand
 * against the real nvjpeg.h and libnvjpeg: each enum value it uses, the layout of
 * nvjpegImage_t, the signature of each function it calls, and that the library exports each
 * name it resolves with dlsym.
 *
 * Not part of the CMake build (it needs CUDA's nvjpeg.h, which odet's build never does). On a
 * machine with the CUDA toolkit, from the repository root:
 *   gcc -I/usr/local/cuda/include tests/io/nvjpeg_decl_check.c -o /tmp/chk && /tmp/chk
 * (append -ldl where glibc is older than 2.34). Prints "nvjpeg_decl_check: N checks passed",
 * or each mismatch and exits 1.
 */
#include <nvjpeg.h>

#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>

static int checks, failures;

static void expect(const char *what, long long got, long long want)
{
	checks++;
	if (got != want) {
		failures++;
		fprintf(stderr, "nvjpeg_decl_check: MISMATCH %s: nvjpeg.h has %lld, src/io/nvjpeg.c assumes %lld\n", what,
			got, want);
	}
}

/* gcc's __builtin_types_compatible_p: the header's type of &fn against the one nvjpeg.c calls
 * through (written here with the header's own type names) */
#define EXPECT_SIGNATURE(fn, type) expect("signature of " #fn, __builtin_types_compatible_p(__typeof__(&fn), type), 1)

/* the names src/io/nvjpeg.c resolves (its nvjpeg_symbols table) */
static const char *const symbols[] = {
	"nvjpegCreateEx",         "nvjpegDestroy",         "nvjpegJpegStateCreate",        "nvjpegJpegStateDestroy",
	"nvjpegJpegStreamCreate", "nvjpegJpegStreamDestroy", "nvjpegJpegStreamParseHeader",      "nvjpegDecodeBatchedSupported",
	"nvjpegDecodeBatchedInitialize", "nvjpegDecodeBatched",
};

static const char *const sonames[] = {"libnvjpeg.so.13", "libnvjpeg.so.12", "libnvjpeg.so"};

int main(void)
{
	printf("nvjpeg.h: nvJPEG %d.%d.%d\n", NVJPEG_VER_MAJOR, NVJPEG_VER_MINOR, NVJPEG_VER_PATCH);

	/* must equal the declarations in src/io/nvjpeg.c */
	expect("NVJPEG_STATUS_SUCCESS", NVJPEG_STATUS_SUCCESS, 0);
	expect("NVJPEG_STATUS_NOT_INITIALIZED", NVJPEG_STATUS_NOT_INITIALIZED, 1);
	expect("NVJPEG_STATUS_INVALID_PARAMETER", NVJPEG_STATUS_INVALID_PARAMETER, 2);
	expect("NVJPEG_STATUS_BAD_JPEG", NVJPEG_STATUS_BAD_JPEG, 3);
	expect("NVJPEG_STATUS_JPEG_NOT_SUPPORTED", NVJPEG_STATUS_JPEG_NOT_SUPPORTED, 4);
	expect("NVJPEG_STATUS_ALLOCATOR_FAILURE", NVJPEG_STATUS_ALLOCATOR_FAILURE, 5);
	expect("NVJPEG_STATUS_EXECUTION_FAILED", NVJPEG_STATUS_EXECUTION_FAILED, 6);
	expect("NVJPEG_STATUS_ARCH_MISMATCH", NVJPEG_STATUS_ARCH_MISMATCH, 7);
	expect("NVJPEG_STATUS_INTERNAL_ERROR", NVJPEG_STATUS_INTERNAL_ERROR, 8);
	expect("NVJPEG_STATUS_IMPLEMENTATION_NOT_SUPPORTED", NVJPEG_STATUS_IMPLEMENTATION_NOT_SUPPORTED, 9);
	expect("NVJPEG_STATUS_INCOMPLETE_BITSTREAM", NVJPEG_STATUS_INCOMPLETE_BITSTREAM, 10);
	expect("NVJPEG_BACKEND_DEFAULT", NVJPEG_BACKEND_DEFAULT, 0);
	expect("NVJPEG_BACKEND_HARDWARE", NVJPEG_BACKEND_HARDWARE, 3);
	expect("NVJPEG_OUTPUT_RGBI", NVJPEG_OUTPUT_RGBI, 5);
	expect("NVJPEG_FLAGS_DEFAULT", NVJPEG_FLAGS_DEFAULT, 0);
	expect("NVJPEG_MAX_COMPONENT", NVJPEG_MAX_COMPONENT, 4);

	/* enums travel as 32-bit integers, cudaStream_t as a pointer */
	expect("sizeof(nvjpegStatus_t)", (long long)sizeof(nvjpegStatus_t), 4);
	expect("sizeof(nvjpegBackend_t)", (long long)sizeof(nvjpegBackend_t), 4);
	expect("sizeof(nvjpegOutputFormat_t)", (long long)sizeof(nvjpegOutputFormat_t), 4);
	expect("sizeof(cudaStream_t) == sizeof(void *)", sizeof(cudaStream_t) == sizeof(void *), 1);

	/* nvjpegImage_t = { unsigned char *channel[4]; size_t pitch[4]; } (LP64) */
	expect("sizeof(nvjpegImage_t)", (long long)sizeof(nvjpegImage_t), 64);
	expect("offsetof(nvjpegImage_t, channel)", (long long)offsetof(nvjpegImage_t, channel), 0);
	expect("offsetof(nvjpegImage_t, pitch)", (long long)offsetof(nvjpegImage_t, pitch), 32);
	expect("sizeof(nvjpegImage_t.pitch[0])", (long long)sizeof(((nvjpegImage_t *)0)->pitch[0]), 8);
	expect("nvjpegImage_t.pitch[0] is size_t",
	       __builtin_types_compatible_p(__typeof__(((nvjpegImage_t *)0)->pitch[0]), size_t), 1);
	expect("nvjpegImage_t.channel[0] is unsigned char *",
	       __builtin_types_compatible_p(__typeof__(((nvjpegImage_t *)0)->channel[0]), unsigned char *), 1);

	/* the functions, as nvjpeg.c calls them */
	EXPECT_SIGNATURE(nvjpegCreateEx, nvjpegStatus_t(*)(nvjpegBackend_t, nvjpegDevAllocator_t *,
							   nvjpegPinnedAllocator_t *, unsigned int, nvjpegHandle_t *));
	EXPECT_SIGNATURE(nvjpegDestroy, nvjpegStatus_t(*)(nvjpegHandle_t));
	EXPECT_SIGNATURE(nvjpegJpegStateCreate, nvjpegStatus_t(*)(nvjpegHandle_t, nvjpegJpegState_t *));
	EXPECT_SIGNATURE(nvjpegJpegStateDestroy, nvjpegStatus_t(*)(nvjpegJpegState_t));
	EXPECT_SIGNATURE(nvjpegJpegStreamCreate, nvjpegStatus_t(*)(nvjpegHandle_t, nvjpegJpegStream_t *));
	EXPECT_SIGNATURE(nvjpegJpegStreamDestroy, nvjpegStatus_t(*)(nvjpegJpegStream_t));
	EXPECT_SIGNATURE(nvjpegJpegStreamParseHeader,
			 nvjpegStatus_t(*)(nvjpegHandle_t, const unsigned char *, size_t, nvjpegJpegStream_t));
	EXPECT_SIGNATURE(nvjpegDecodeBatchedSupported, nvjpegStatus_t(*)(nvjpegHandle_t, nvjpegJpegStream_t, int *));
	EXPECT_SIGNATURE(nvjpegDecodeBatchedInitialize,
			 nvjpegStatus_t(*)(nvjpegHandle_t, nvjpegJpegState_t, int, int, nvjpegOutputFormat_t));
	EXPECT_SIGNATURE(nvjpegDecodeBatched,
			 nvjpegStatus_t(*)(nvjpegHandle_t, nvjpegJpegState_t, const unsigned char *const *,
					   const size_t *, nvjpegImage_t *, cudaStream_t));

	/* the library nvjpeg.c would load, and each name it resolves */
	void *dl = NULL;
	const char *soname = NULL;
	for (size_t i = 0; i < sizeof sonames / sizeof sonames[0] && !dl; i++) {
		dl = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL);
		soname = sonames[i];
		if (!dl)
			fprintf(stderr, "nvjpeg_decl_check: %s\n", dlerror());
	}
	checks++;
	if (!dl) {
		failures++;
		fprintf(stderr, "nvjpeg_decl_check: MISMATCH no libnvjpeg could be opened\n");
	} else {
		printf("loaded %s\n", soname);
		for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
			checks++;
			if (!dlsym(dl, symbols[i])) {
				failures++;
				fprintf(stderr, "nvjpeg_decl_check: MISMATCH %s does not export %s\n", soname, symbols[i]);
			}
		}
		dlclose(dl);
	}

	if (failures) {
		fprintf(stderr, "nvjpeg_decl_check: %d of %d checks failed\n", failures, checks);
		return 1;
	}
	printf("nvjpeg_decl_check: %d checks passed\n", checks);
	return 0;
}
