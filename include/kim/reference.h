// Image references ("docker.io/library/alpine:3.19@sha256:...") parsed exactly like Docker's
// distribution/reference module, so that every name a Docker user types means the same image in
// kim.
//
// Grammar (Docker's, reproduced here because the parser is hand-written against it):
//
//   reference        := name [ ":" tag ] [ "@" digest ]
//   name             := [ domain "/" ] path            ; at most 255 characters in total
//   domain           := host [ ":" port ]
//   host             := domain-name | "[" ipv6 "]"     ; IPv4 addresses are domain names
//   domain-name      := component ( "." component )*   ; component: [a-zA-Z0-9] or
//                                                      ;   [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
//   port             := [0-9]+
//   ipv6             := [a-fA-F0-9:]+
//   path             := path-component ( "/" path-component )*
//   path-component   := [a-z0-9]+ ( separator [a-z0-9]+ )*
//   separator        := "." | "_" | "__" | "-"+
//   tag              := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
//   digest           := algorithm ":" [0-9a-fA-F]{32,}  ; then checked like kim::Digest::Parse
//   algorithm        := [A-Za-z][A-Za-z0-9]* ( [-_+.] [A-Za-z][A-Za-z0-9]* )*
//
// Error messages: every error is absl::InvalidArgumentError shaped
//   invalid reference "<input>": <Docker's text>
// e.g. `invalid reference "a:b:c": invalid reference format`, where <input> is the text as given
// (escaped like Go's %q if it holds quotes, backslashes or unprintable bytes) and <Docker's text>
// is the message `docker pull` prints for the same input ("invalid reference format", "invalid
// reference format: repository name (Foo) must be lowercase", "repository name must have at
// least one component", "repository name must not be more than 255 characters", "invalid
// checksum digest length", ...). WithTag errors read `invalid tag "<tag>": invalid tag format`.
#ifndef KIM_REFERENCE_H_
#define KIM_REFERENCE_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "kim/digest.h"

namespace kim {

// The registry that familiar names ("alpine", "user/app") refer to.
inline constexpr std::string_view kDefaultDomain = "docker.io";

// The repository namespace of Docker Hub's official images ("alpine" is "library/alpine").
inline constexpr std::string_view kOfficialRepoPrefix = "library/";

// The tag added to a reference that has neither tag nor digest.
inline constexpr std::string_view kDefaultTag = "latest";

// A fully qualified image reference: registry domain, repository path, optional tag, optional
// digest. A value always has a non-empty domain and path. Immutable value type; safe to share
// between threads.
class ImageReference {
 public:
  // Parses what a user types, like Docker's ParseNormalizedNamed: "alpine" becomes
  // "docker.io/library/alpine", "user/app" becomes "docker.io/user/app", "index.docker.io" becomes
  // "docker.io". The first path segment is a registry domain iff it contains "." or ":", is
  // "localhost", or has an uppercase letter. A bare 64-hex string is refused (it is an image ID,
  // not a name). No default tag is added; see WithDefaultTag.
  //
  // One deliberate difference from Docker: where Docker would return a name with an empty domain
  // (a first segment such as "a_b.c" that looks like a domain but is not one), kim returns
  // "invalid reference format".
  static absl::StatusOr<ImageReference> ParseNormalized(std::string_view text);

  // Parses a reference that must already be in canonical form, like Docker's ParseNamed:
  // "docker.io/library/alpine:3" is accepted, "alpine:3" is refused with "repository name must
  // be canonical". Use for references read from machines (containerd image names, manifests).
  static absl::StatusOr<ImageReference> Parse(std::string_view text);

  ImageReference(const ImageReference&) = default;
  ImageReference& operator=(const ImageReference&) = default;
  ImageReference(ImageReference&&) = default;
  ImageReference& operator=(ImageReference&&) = default;

  // The registry host, with port if one was given, e.g. "docker.io", "localhost:5000",
  // "[::1]:5000".
  const std::string& Domain() const { return domain_; }

  // The repository path inside the registry, e.g. "library/alpine".
  const std::string& Path() const { return path_; }

  // Domain and path: the repository's full name, e.g. "docker.io/library/alpine".
  std::string Name() const;

  // The tag, or an empty string when the reference has none.
  const std::string& Tag() const { return tag_; }

  // The digest, or nullopt when the reference has none.
  const std::optional<kim::Digest>& Digest() const { return digest_; }

  // True when the reference carries a tag.
  bool HasTag() const { return !tag_.empty(); }

  // True when the reference carries a digest.
  bool HasDigest() const { return digest_.has_value(); }

  // The canonical form "domain/path[:tag][@digest]"; Parse(String()) gives back an equal value.
  std::string String() const;

  // The name as Docker shows it: "docker.io/" dropped, and "library/" dropped for official
  // images, e.g. "alpine", "user/app", "quay.io/ns/app". Unlike Docker, "docker.io/" is kept
  // when the Hub namespace would read as a registry ("docker.io/foo.bar/app", not
  // "foo.bar/app"), so ParseNormalized(FamiliarString()) always names the same repository.
  std::string FamiliarName() const;

  // FamiliarName() with the tag and digest, e.g. "alpine:3.19".
  std::string FamiliarString() const;

  // The same reference with tag "latest" when it has neither tag nor digest (Docker's
  // TagNameOnly); otherwise an unchanged copy.
  ImageReference WithDefaultTag() const;

  // The same repository with `tag` instead of the current tag; the digest is kept. Returns
  // InvalidArgumentError `invalid tag "<tag>": invalid tag format` if `tag` breaks the grammar.
  absl::StatusOr<ImageReference> WithTag(std::string_view tag) const;

  // The same repository with `digest` instead of the current digest; the tag is kept.
  ImageReference WithDigest(const kim::Digest& digest) const;

  // The repository alone, tag and digest dropped (Docker's TrimNamed).
  ImageReference NameOnly() const;

  friend bool operator==(const ImageReference& a, const ImageReference& b) = default;

 private:
  ImageReference() = default;

  std::string domain_;
  std::string path_;
  std::string tag_;
  std::optional<kim::Digest> digest_;
};

// True when `tag` matches the tag grammar [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
bool IsValidTag(std::string_view tag);

// True when `domain` names Docker Hub: "docker.io", or its legacy and API host names
// "index.docker.io" and "registry-1.docker.io".
bool IsDockerHub(std::string_view domain);

}  // namespace kim

#endif  // KIM_REFERENCE_H_
