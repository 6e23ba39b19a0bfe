// TlsMaterial: the PEM contents a client presents and trusts for mutual TLS, held in memory
// (libkim never reads certificate files; programs read them and pass the contents).
#ifndef KIM_TLS_H_
#define KIM_TLS_H_

#include <string>

namespace kim {

// PEM contents (not paths) for one mutual-TLS client. All empty means plaintext; a CA without a
// client certificate is allowed (the server refuses it if it requires one); a certificate
// needs its key and a key its certificate.
struct TlsMaterial {
  std::string ca;    // CA certificate(s) the server's certificate must chain to; empty = none
  std::string cert;  // client certificate chain; empty = present none
  std::string key;   // the client certificate's private key; empty = none

  // True when no field is set (plaintext).
  bool empty() const { return ca.empty() && cert.empty() && key.empty(); }
};

}  // namespace kim

#endif  // KIM_TLS_H_
