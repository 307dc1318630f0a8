/* Opening an ELF core file: our own checks of the identification bytes and
 * header sizes first (so truncated or foreign files get a precise message),
 * then libelf for the headers in any class and byte order. */
#include "mem/elfcore.h"

#include <inttypes.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "mem/backend.h"

/* Far more than any dump has (one per RAM range or page run). */
#define ELFCORE_MAX_PHDRS (1u << 24)

static const char *etype_name(unsigned type)
{
	switch (type) {
	case ET_NONE: return "no file type";
	case ET_REL: return "a relocatable object";
	case ET_EXEC: return "an executable";
	case ET_DYN: return "a shared object or PIE executable";
	default: return "an unknown file type";
	}
}

/* The architectures whose IOMMUs we decode, in both widths: QEMU writes
 * EM_386 for an x86 guest still in 32-bit mode, and 32-bit Arm or POWER
 * guests sit behind the same IOMMUs. */
static bool machine_supported(unsigned machine)
{
	switch (machine) {
	case EM_386:
	case EM_X86_64:
	case EM_ARM:
	case EM_AARCH64:
	case EM_PPC:
	case EM_PPC64:
		return true;
	default:
		return false;
	}
}

/* Checks e_ident and the header sizes against the file size. */
static int check_ident(struct elfcore *ec, struct errbuf *err)
{
	unsigned char ident[EI_NIDENT];
	uint64_t ehdr_size;
	int ret;

	if (ec->file_size < SELFMAG)
		return err_set(err, -EINVAL, "%s: not an ELF file (only %" PRIu64
			       " bytes)", ec->path, ec->file_size);
	memset(ident, 0, sizeof(ident));
	ret = mem_file_pread(ec->fd, ident,
			     ec->file_size < EI_NIDENT ? (size_t)ec->file_size : EI_NIDENT,
			     0, NULL);
	if (ret == MEM_FILE_SHORT)
		ret = -EIO;
	if (ret < 0)
		return err_set(err, ret, "cannot read %s: %s", ec->path, strerror(-ret));
	if (memcmp(ident, ELFMAG, SELFMAG) != 0)
		return err_set(err, -EINVAL, "%s: not an ELF file", ec->path);
	if (ec->file_size < EI_NIDENT)
		return err_set(err, -EINVAL, "%s: truncated ELF header (%" PRIu64
			       " bytes)", ec->path, ec->file_size);
	switch (ident[EI_CLASS]) {
	case ELFCLASS32: ehdr_size = sizeof(Elf32_Ehdr); break;
	case ELFCLASS64: ehdr_size = sizeof(Elf64_Ehdr); break;
	default:
		return err_set(err, -EINVAL, "%s: unsupported ELF class %u at offset 0x%x",
			       ec->path, ident[EI_CLASS], EI_CLASS);
	}
	if (ident[EI_DATA] != ELFDATA2LSB && ident[EI_DATA] != ELFDATA2MSB)
		return err_set(err, -EINVAL, "%s: unsupported ELF data encoding %u at offset 0x%x",
			       ec->path, ident[EI_DATA], EI_DATA);
	if (ident[EI_VERSION] != EV_CURRENT)
		return err_set(err, -EINVAL, "%s: unsupported ELF version %u at offset 0x%x",
			       ec->path, ident[EI_VERSION], EI_VERSION);
	if (ec->file_size < ehdr_size)
		return err_set(err, -EINVAL, "%s: truncated ELF header (%" PRIu64
			       " bytes, the header needs %" PRIu64 ")",
			       ec->path, ec->file_size, ehdr_size);
	return 0;
}

static int check_phdrs(struct elfcore *ec, struct errbuf *err)
{
	uint64_t entsize = ec->ehdr.e_ident[EI_CLASS] == ELFCLASS64 ?
			   sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	uint64_t table;

	/* Not elf_getphdrnum: it quietly clamps the count to what fits in
	 * the file, which would hide a truncated table. */
	ec->phnum = ec->ehdr.e_phnum;
	if (ec->phnum == PN_XNUM) {
		GElf_Shdr sh0;
		Elf_Scn *scn = elf_getscn(ec->elf, 0);

		if (!scn || !gelf_getshdr(scn, &sh0))
			return err_set(err, -EINVAL, "%s: e_phnum is PN_XNUM but section header 0 "
				       "at offset 0x%" PRIx64 " cannot be read: %s", ec->path,
				       (uint64_t)ec->ehdr.e_shoff, elf_errmsg(-1));
		ec->phnum = sh0.sh_info;
	}
	if (ec->phnum == 0)
		return 0;
	if (ec->phnum > ELFCORE_MAX_PHDRS)
		return err_set(err, -EINVAL, "%s: %zu program headers, more than the %u supported",
			       ec->path, ec->phnum, ELFCORE_MAX_PHDRS);
	if (ec->ehdr.e_phentsize != entsize)
		return err_set(err, -EINVAL, "%s: program header size %u, expected %" PRIu64,
			       ec->path, ec->ehdr.e_phentsize, entsize);
	/* phnum < 2^32 and entsize <= 56, so the product cannot overflow. */
	table = (uint64_t)ec->phnum * entsize;
	if (ec->ehdr.e_phoff > ec->file_size ||
	    table > ec->file_size - ec->ehdr.e_phoff)
		return err_set(err, -EINVAL, "%s: %zu program headers at offset 0x%" PRIx64
			       " run past the end of the file (0x%" PRIx64 " bytes): truncated file",
			       ec->path, ec->phnum, (uint64_t)ec->ehdr.e_phoff, ec->file_size);
	return 0;
}

int elfcore_open(const char *path, struct elfcore *ec, struct errbuf *err)
{
	int ret;

	memset(ec, 0, sizeof(*ec));
	ec->path = path;
	ec->fd = mem_file_open(path, &ec->file_size, err);
	if (ec->fd < 0) {
		ret = ec->fd;
		ec->fd = -1;
		return ret;
	}
	ret = check_ident(ec, err);
	if (ret < 0)
		goto fail;

	if (elf_version(EV_CURRENT) == EV_NONE) {
		ret = err_set(err, -EINVAL, "%s: libelf is out of date", path);
		goto fail;
	}
	/* ELF_C_READ reads headers on demand with pread; data is never
	 * loaded by libelf (the backends map or pread it themselves). */
	ec->elf = elf_begin(ec->fd, ELF_C_READ, NULL);
	if (!ec->elf || elf_kind(ec->elf) != ELF_K_ELF) {
		ret = err_set(err, -EINVAL, "%s: cannot parse the ELF header: %s",
			      path, elf_errmsg(-1));
		goto fail;
	}
	if (!gelf_getehdr(ec->elf, &ec->ehdr)) {
		ret = err_set(err, -EINVAL, "%s: cannot parse the ELF header: %s",
			      path, elf_errmsg(-1));
		goto fail;
	}
	if (ec->ehdr.e_type != ET_CORE) {
		ret = err_set(err, -EINVAL, "%s: not an ELF core file (e_type %u, %s)",
			      path, ec->ehdr.e_type, etype_name(ec->ehdr.e_type));
		goto fail;
	}
	if (!machine_supported(ec->ehdr.e_machine)) {
		ret = err_set(err, -EINVAL, "%s: unsupported machine %u (e_machine at offset 0x12); "
			      "iommutool reads x86, Arm and POWER cores", path, ec->ehdr.e_machine);
		goto fail;
	}
	ret = check_phdrs(ec, err);
	if (ret < 0)
		goto fail;
	return 0;
fail:
	elfcore_close(ec);
	return ret;
}

void elfcore_close(struct elfcore *ec)
{
	if (ec->elf)
		elf_end(ec->elf);
	if (ec->fd >= 0)
		close(ec->fd);
	ec->elf = NULL;
	ec->fd = -1;
}

uint64_t elfcore_phdr_offset(const struct elfcore *ec, size_t i)
{
	return ec->ehdr.e_phoff + (uint64_t)i * ec->ehdr.e_phentsize;
}

int elfcore_phdr(struct elfcore *ec, size_t i, GElf_Phdr *ph, struct errbuf *err)
{
	if (!gelf_getphdr(ec->elf, (int)i, ph))
		return err_set(err, -EINVAL, "%s: cannot read program header %zu at offset 0x%"
			       PRIx64 ": %s", ec->path, i, elfcore_phdr_offset(ec, i),
			       elf_errmsg(-1));
	return 0;
}
