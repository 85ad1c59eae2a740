"""Variables that make a process load or run other code, or trust another server.

Whoever sets one of these in a task runs code of their choosing as the job's task role, with its
secrets, or reads and changes what the job sends and receives. A job's own `environment` may set
them (its author chose the image); a run never may, and a job may not list one in `parameters`.
Each entry names where its loader or runtime documents it. Names are matched in any case, whole
(`name`) or by their start (`prefix`).
"""

from __future__ import annotations

from typing import Final, Literal, NamedTuple


class LoaderVariable(NamedTuple):
    """One catalogue entry. A named tuple, not a dataclass: the catalogue is read at every cold
    start of the functions, and a dataclass costs a millisecond to make there."""

    pattern: str
    match: Literal["name", "prefix"]
    effect: str
    """What setting it does, in words."""
    source: str
    """Where the loader or runtime documents it."""

    def matches(self, upper_name: str) -> bool:
        if self.match == "prefix":
            return upper_name.startswith(self.pattern)
        return upper_name == self.pattern

    @property
    def shown(self) -> str:
        return f"{self.pattern}*" if self.match == "prefix" else self.pattern


_LD_SO = "ld.so(8), https://man7.org/linux/man-pages/man8/ld.so.8.html"
_DYLD = "dyld(1), https://www.manpagez.com/man/1/dyld/"
_PYTHON = "Python command line and environment, https://docs.python.org/3/using/cmdline.html"
_BASH = "bash(1), https://www.gnu.org/software/bash/manual/bash.html#Bash-Variables"
_NODE = "Node.js CLI, https://nodejs.org/api/cli.html#environment-variables"
_JAVA = "JDK tools, https://docs.oracle.com/en/java/javase/21/troubleshoot/environment-variables-and-system-properties.html"
_PERL = "perlrun, https://perldoc.perl.org/perlrun#ENVIRONMENT"
_RUBY = "ruby(1), https://ruby-doc.org/3.3/ruby_1.html"
_GIT = "git(1), https://git-scm.com/docs/git#_environment_variables"
_GLIBC = "glibc manual, https://sourceware.org/glibc/manual/latest/html_node/Tunables.html"
_ICONV = "iconv_open(3), https://man7.org/linux/man-pages/man3/iconv_open.3.html"
_OPENSSL = "OpenSSL config(5), https://docs.openssl.org/3.0/man5/config/"
_OPENSSL_ENV = "openssl-env(7), https://docs.openssl.org/3.0/man7/openssl-env/"
_DOTNET = "runtime startup hooks and profiling, https://learn.microsoft.com/dotnet/core/runtime-config/debugging-profiling"
_CURL = "curl(1), https://curl.se/docs/manpage.html#ENVIRONMENT"
_REQUESTS = (
    "Requests, https://requests.readthedocs.io/en/latest/user/advanced/#ssl-cert-verification"
)

CATALOGUE: Final = (
    LoaderVariable("LD_", "prefix", "the dynamic loader preloads, audits or finds libraries", _LD_SO),
    LoaderVariable("DYLD_", "prefix", "the macOS loader inserts libraries", _DYLD),
    LoaderVariable("PYTHON", "prefix", "Python runs a startup file, adds module paths or options", _PYTHON),
    LoaderVariable("PATH", "name", "every program started by name is looked up there", _BASH),
    LoaderVariable("BASH_ENV", "name", "bash runs that file before a script", _BASH),
    LoaderVariable("ENV", "name", "sh and bash in POSIX mode run that file", _BASH),
    LoaderVariable("SHELLOPTS", "name", "bash turns on options such as xtrace at start", _BASH),
    LoaderVariable("BASHOPTS", "name", "bash turns on options at start", _BASH),
    LoaderVariable("PS4", "name", "bash expands it, commands included, for every traced line", _BASH),
    LoaderVariable("IFS", "name", "the shell splits words differently", _BASH),
    LoaderVariable("NODE_OPTIONS", "name", "Node.js takes options such as --require", _NODE),
    LoaderVariable("NODE_PATH", "name", "Node.js finds modules there", _NODE),
    LoaderVariable("NODE_EXTRA_CA_CERTS", "name", "Node.js trusts more certificate authorities", _NODE),
    LoaderVariable("NODE_TLS_REJECT_UNAUTHORIZED", "name", "Node.js skips certificate checks", _NODE),
    LoaderVariable("JAVA_TOOL_OPTIONS", "name", "the JVM takes options such as -javaagent", _JAVA),
    LoaderVariable("_JAVA_OPTIONS", "name", "the JVM takes options such as -javaagent", _JAVA),
    LoaderVariable("JDK_JAVA_OPTIONS", "name", "the java launcher takes options", _JAVA),
    LoaderVariable("CLASSPATH", "name", "the JVM loads classes from there", _JAVA),
    LoaderVariable("PERL5OPT", "name", "perl takes options such as -M", _PERL),
    LoaderVariable("PERL5LIB", "name", "perl loads modules from there", _PERL),
    LoaderVariable("PERLLIB", "name", "perl loads modules from there", _PERL),
    LoaderVariable("PERL5DB", "name", "perl runs that code as its debugger", _PERL),
    LoaderVariable("RUBYOPT", "name", "ruby takes options such as -r", _RUBY),
    LoaderVariable("RUBYLIB", "name", "ruby loads libraries from there", _RUBY),
    LoaderVariable("GEM_", "prefix", "ruby loads gems from there", _RUBY),
    LoaderVariable("BUNDLE_GEMFILE", "name", "bundler loads another Gemfile", "Bundler, https://bundler.io/man/bundle-config.1.html"),
    LoaderVariable("LUA_INIT", "prefix", "lua runs that code at start", "Lua manual, https://www.lua.org/manual/5.4/lua.html#7"),
    LoaderVariable("LUA_PATH", "prefix", "lua loads modules from there", "Lua manual, https://www.lua.org/manual/5.4/manual.html#pdf-package.path"),
    LoaderVariable("LUA_CPATH", "prefix", "lua loads C modules from there", "Lua manual, https://www.lua.org/manual/5.4/manual.html#pdf-package.cpath"),
    LoaderVariable("PHPRC", "name", "php reads another php.ini (auto_prepend_file)", "PHP, https://www.php.net/manual/en/configuration.file.php"),
    LoaderVariable("PHP_INI_SCAN_DIR", "name", "php reads more .ini files", "PHP, https://www.php.net/manual/en/configuration.file.php"),
    LoaderVariable("R_PROFILE", "prefix", "R runs that profile at start", "R Startup, https://stat.ethz.ch/R-manual/R-devel/library/base/html/Startup.html"),
    LoaderVariable("R_ENVIRON", "prefix", "R reads those variables at start", "R Startup, https://stat.ethz.ch/R-manual/R-devel/library/base/html/Startup.html"),
    LoaderVariable("R_LIBS", "prefix", "R loads packages from there", "R Startup, https://stat.ethz.ch/R-manual/R-devel/library/base/html/Startup.html"),
    LoaderVariable("TCLLIBPATH", "name", "tclsh loads packages from there", "tclvars(n), https://www.tcl-lang.org/man/tcl8.6/TclCmd/tclvars.htm"),
    LoaderVariable("DOTNET_STARTUP_HOOKS", "name", ".NET runs that assembly first", _DOTNET),
    LoaderVariable("DOTNET_ADDITIONAL_DEPS", "name", ".NET loads more dependencies", _DOTNET),
    LoaderVariable("CORECLR_", "prefix", ".NET loads a profiler into the process", _DOTNET),
    LoaderVariable("COR_", "prefix", ".NET Framework loads a profiler into the process", _DOTNET),
    LoaderVariable("GCONV_PATH", "name", "glibc loads iconv modules from there", _ICONV),
    LoaderVariable("GLIBC_TUNABLES", "name", "glibc changes its allocator and loader (CVE-2023-4911)", _GLIBC),
    LoaderVariable("LOCPATH", "name", "glibc loads locale data from there", "locale(7), https://man7.org/linux/man-pages/man7/locale.7.html"),
    LoaderVariable("HOSTALIASES", "name", "the resolver maps host names through that file", "hostname(7), https://man7.org/linux/man-pages/man7/hostname.7.html"),
    LoaderVariable("OPENSSL_CONF", "name", "OpenSSL reads a config that may load engines", _OPENSSL),
    LoaderVariable("OPENSSL_MODULES", "name", "OpenSSL loads providers from there", _OPENSSL_ENV),
    LoaderVariable("OPENSSL_ENGINES", "name", "OpenSSL loads engines from there", _OPENSSL_ENV),
    LoaderVariable("SSL_CERT_", "prefix", "OpenSSL trusts other certificate authorities", _OPENSSL_ENV),
    LoaderVariable("CURL_CA_BUNDLE", "name", "curl trusts other certificate authorities", _CURL),
    LoaderVariable("REQUESTS_CA_BUNDLE", "name", "Python requests trusts other certificate authorities", _REQUESTS),
    LoaderVariable("AWS_CA_BUNDLE", "name", "the AWS SDKs trust other certificate authorities", "AWS SDKs, https://docs.aws.amazon.com/sdkref/latest/guide/feature-gen-config.html"),
    LoaderVariable("HTTPS_PROXY", "name", "HTTPS requests go through another server", _CURL),
    LoaderVariable("HTTP_PROXY", "name", "HTTP requests go through another server", _CURL),
    LoaderVariable("ALL_PROXY", "name", "requests go through another server", _CURL),
    LoaderVariable("NO_PROXY", "name", "requests bypass the job's proxy", _CURL),
    LoaderVariable("HOME", "name", "programs read their startup and config files (.curlrc, .gitconfig, .npmrc, pip.conf) from there", _CURL),
    LoaderVariable("XDG_CONFIG_", "prefix", "programs read their config files from there", "XDG Base Directory, https://specifications.freedesktop.org/basedir-spec/latest/"),
    LoaderVariable("ZDOTDIR", "name", "zsh runs its startup files from there", "zsh, https://zsh.sourceforge.io/Doc/Release/Files.html"),
    LoaderVariable("GIT_SSH", "prefix", "git runs that command to connect", _GIT),
    LoaderVariable("GIT_CONFIG", "prefix", "git reads another config, which may run commands", _GIT),
    LoaderVariable("GIT_EXEC_PATH", "name", "git runs its sub-commands from there", _GIT),
    LoaderVariable("GIT_ASKPASS", "name", "git runs that program for credentials", _GIT),
    LoaderVariable("GIT_PROXY_COMMAND", "name", "git runs that command to connect", _GIT),
    LoaderVariable("GIT_EXTERNAL_DIFF", "name", "git runs that program for diffs", _GIT),
    LoaderVariable("GIT_PAGER", "name", "git runs that program", _GIT),
    LoaderVariable("GIT_EDITOR", "name", "git runs that program", _GIT),
    LoaderVariable("PAGER", "name", "programs run it to show text", "environ(7), https://man7.org/linux/man-pages/man7/environ.7.html"),
    LoaderVariable("EDITOR", "name", "programs run it to edit text", "environ(7), https://man7.org/linux/man-pages/man7/environ.7.html"),
    LoaderVariable("VISUAL", "name", "programs run it to edit text", "environ(7), https://man7.org/linux/man-pages/man7/environ.7.html"),
    LoaderVariable("NPM_CONFIG_", "prefix", "npm takes settings such as script-shell or registry", "npm config, https://docs.npmjs.com/cli/v10/using-npm/config#environment-variables"),
    LoaderVariable("PIP_", "prefix", "pip takes settings such as index-url", "pip, https://pip.pypa.io/en/stable/topics/configuration/#environment-variables"),
)  # fmt: skip


def find(name: str) -> LoaderVariable | None:
    """The catalogue's entry for `name`, in any case, or None."""
    upper = name.upper()
    return next((entry for entry in CATALOGUE if entry.matches(upper)), None)
