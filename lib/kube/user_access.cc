// kim-user: the Role and ClusterRole, and the 403 hint.
#include "lib/kube/user_access.h"

#include <regex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/kube/installer_objects.h"
#include "lib/kube/json_build.h"

namespace kim::kube {
namespace {

using namespace json;  // NOLINT: the builders are this file's vocabulary

// One RBAC rule; `names` empty = every object of the resources.
Json Rule(const std::string& group, const std::vector<std::string>& resources,
          const std::vector<std::string>& verbs, const std::vector<std::string>& names = {}) {
  Fields fields{{"apiGroups", Strs({group})}, {"resources", Strs(resources)}};
  if (!names.empty()) fields.push_back({"resourceNames", Strs(names)});
  fields.push_back({"verbs", Strs(verbs)});
  return Obj(std::move(fields));
}

// A binding name for `user`: "kim-user-" and the user's name in the characters object names
// allow (a ServiceAccount's own name for system:serviceaccount:NS:NAME).
std::string BindingName(const std::string& user) {
  std::string out = "kim-user-";
  for (char c : absl::AsciiStrToLower(user)) {
    out += (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-') ? c : '-';
  }
  return out;
}

// kubectl's subject flag for `user`: --serviceaccount=NS:NAME or --user=NAME.
std::string SubjectFlag(const std::string& user) {
  constexpr absl::string_view kServiceAccount = "system:serviceaccount:";
  if (absl::StartsWith(user, kServiceAccount)) {
    return absl::StrCat("--serviceaccount=", user.substr(kServiceAccount.size()));
  }
  return absl::StrCat("--user=", user);
}

}  // namespace

Json UserRoleObject(const std::string& ns) {
  std::vector<std::string> daemonsets = {kBuilderName};
  for (const char* flavour : kRuntimeFlavours) daemonsets.push_back(AgentDaemonSetName(flavour));
  return Obj(
      {{"metadata", ObjectMetadata(kUserRoleName, ns)},
       {"rules", Arr({Rule("", {"services", "endpoints"}, {"get"}, {kBuilderName}),
                      Rule("", {"secrets"}, {"get"}, {kClientSecret, kDockerConfigSecret}),
                      Rule("", {"pods"}, {"list"}),
                      Rule("", {"pods/portforward"}, {"get", "create"}),
                      Rule("apps", {"daemonsets"}, {"get"}, daemonsets)})}});
}

Json UserClusterRoleObject() {
  return Obj({{"metadata", ObjectMetadata(kUserRoleName, "")},
              {"rules", Arr({Rule("", {"nodes"}, {"list"})})}});
}

absl::Status WithUserRoleHint(const absl::Status& status, const std::string& ns, UserScope scope) {
  if (!absl::IsPermissionDenied(status)) return status;
  const std::string message(status.message());
  std::smatch match;
  std::string user;
  if (std::regex_search(message, match, std::regex("forbidden for user \"([^\"?]+)\""))) {
    user = match[1];
  }
  const std::string subject = user.empty() ? "--user=USER" : SubjectFlag(user);
  const std::string binding = user.empty() ? "kim-user-USER" : BindingName(user);
  const std::string command =
      scope == UserScope::kCluster
          ? absl::StrCat("kubectl create clusterrolebinding ", binding, " --clusterrole=",
                         kUserRoleName, " ", subject)
          : absl::StrCat("kubectl -n ", ns, " create rolebinding ", binding, " --role=",
                         kUserRoleName, " ", subject);
  return absl::PermissionDeniedError(absl::StrCat(
      message, "; `kim system install` created the ", scope == UserScope::kCluster ? "ClusterRole" : "Role",
      " \"", kUserRoleName, "\" with what kim needs: a cluster admin grants it with `", command,
      "` (docs/security.md)"));
}

}  // namespace kim::kube
