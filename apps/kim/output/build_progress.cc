#include "apps/kim/output/build_progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "kim/units.h"

namespace kim::cli {
namespace {

std::string Seconds(absl::Duration d) {
  if (d < absl::ZeroDuration()) d = absl::ZeroDuration();
  return absl::StrFormat("%.1fs", absl::ToDoubleSeconds(d));
}

std::string Json(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20) {
      out += absl::StrFormat("\\u%04x", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string JsonTime(const std::optional<absl::Time>& t) {
  if (!t) return "null";
  return Json(absl::FormatTime(absl::RFC3339_full, *t, absl::UTCTimeZone()));
}

int TerminalWidth() {
  struct winsize ws {};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) return ws.ws_col;
  return 80;
}

std::string Fit(const std::string& text, size_t width) {
  if (text.size() <= width) return text;
  return text.substr(0, width > 3 ? width - 3 : width) + "...";
}

}  // namespace

std::string ProgressAmount(const std::string& name, int64_t current, int64_t total) {
  const bool bytes = name.starts_with("transferring") || name.starts_with("sha256:") ||
                     name.starts_with("exporting") || name.starts_with("writing") ||
                     name.starts_with("copying") || name.starts_with("pushing");
  auto fmt = [&](int64_t v) {
    return bytes ? HumanSizeWithPrecision(static_cast<double>(v), 3) : absl::StrCat(v);
  };
  if (total > 0) return absl::StrCat(fmt(current), " / ", fmt(total));
  if (current > 0) return fmt(current);
  return "";
}

BuildProgress::Mode BuildProgress::ModeFor(const std::string& flag, bool terminal) {
  if (flag == "plain") return Mode::kPlain;
  if (flag == "quiet") return Mode::kQuiet;
  if (flag == "rawjson") return Mode::kRawJson;
  return terminal ? Mode::kTty : Mode::kPlain;  // auto, tty
}

BuildProgress::BuildProgress(std::ostream& out, Mode mode, std::function<absl::Time()> now)
    : out_(out), mode_(mode), now_(std::move(now)), start_(now_()) {
  if (mode_ == Mode::kTty) ticker_ = std::thread([this] { Ticker(); });
}

BuildProgress::~BuildProgress() { Finish(); }

void BuildProgress::Ticker() {
  std::unique_lock lock(mu_);
  while (!finished_) {
    Draw(false);
    cv_.wait_for(lock, std::chrono::milliseconds(100));
  }
}

void BuildProgress::Update(const BuildEvent& event) {
  std::lock_guard lock(mu_);
  if (finished_ || mode_ == Mode::kQuiet) return;
  if (mode_ == Mode::kRawJson) {
    RawJson(event);
    return;
  }
  if (event.kind == BuildEvent::Kind::kWarning) {
    warnings_.push_back(event.name);
    if (mode_ == Mode::kPlain) out_ << "WARNING: " << event.name << "\n" << std::flush;
    return;
  }
  auto [it, inserted] = steps_.try_emplace(event.vertex);
  Step& step = it->second;
  if (inserted) {
    step.digest = event.vertex;
    step.first_seen = order_.size();
    order_.push_back(event.vertex);
  }
  switch (event.kind) {
    case BuildEvent::Kind::kVertex:
      // Each vertex event is a full snapshot; a vertex may complete and start again (the
      // daemon re-runs "load build definition" for the frontend), so nothing is merged.
      if (!event.name.empty()) step.name = event.name;
      if (step.done_printed && event.started && !event.completed && !event.cached) {
        step.done_printed = false;
      }
      step.cached = event.cached;
      step.started = event.started;
      step.completed = event.completed;
      step.error = event.error;
      break;
    case BuildEvent::Kind::kProgress: {
      auto p = std::find_if(step.progress.begin(), step.progress.end(),
                            [&](const Progress& x) { return x.id == event.id; });
      if (p == step.progress.end()) {
        step.progress.push_back(Progress{.id = event.id});
        p = step.progress.end() - 1;
      }
      p->name = event.name;
      p->current = event.current;
      p->total = event.total;
      if (event.started) p->started = event.started;
      if (event.completed) p->completed = event.completed;
      break;
    }
    case BuildEvent::Kind::kLog: {
      std::string text = step.partial_line + event.log;
      std::vector<std::string> lines = absl::StrSplit(text, '\n');
      step.partial_line = lines.back();
      lines.pop_back();
      for (std::string& line : lines) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        step.log_lines.push_back(line);
      }
      if (step.log_lines.size() > 200) {
        step.log_lines.erase(step.log_lines.begin(), step.log_lines.end() - 200);
      }
      break;
    }
    case BuildEvent::Kind::kWarning:
      break;
  }
  if (mode_ == Mode::kPlain) Plain(event, step);
}

void BuildProgress::PlainHeader(Step& step) {
  if (step.header_printed) return;
  if (step.index == 0) step.index = next_index_++;
  if (!last_printed_.empty() && last_printed_ != step.digest) out_ << "\n";
  out_ << "#" << step.index << " " << step.name << "\n";
  step.header_printed = true;
  last_printed_ = step.digest;
}

void BuildProgress::PlainLine(Step& step, const std::string& text) {
  PlainHeader(step);
  if (last_printed_ != step.digest) out_ << "\n";
  out_ << "#" << step.index << " " << text << "\n";
  last_printed_ = step.digest;
}

void BuildProgress::FlushPendingDone(const std::string& unless) {
  if (pending_done_.empty() || pending_done_ == unless) return;
  Step& step = steps_.at(pending_done_);
  pending_done_.clear();
  if (step.done_printed) return;
  const absl::Duration took =
      step.started && step.completed ? *step.completed - *step.started : absl::ZeroDuration();
  PlainLine(step, step.error.empty() ? "DONE " + Seconds(took) : "ERROR: " + step.error);
  step.done_printed = true;
}

void BuildProgress::Plain(const BuildEvent& event, Step& step) {
  FlushPendingDone(step.digest);
  switch (event.kind) {
    case BuildEvent::Kind::kVertex:
      if (step.done_printed) break;
      if (step.cached) {
        PlainLine(step, "CACHED");
        step.done_printed = true;
      } else if (step.completed) {
        // Printed once the step's last progress lines (which the daemon sends after the step's
        // completion) are out: when another step prints, or at the end.
        PlainHeader(step);
        pending_done_ = step.digest;
      } else if (step.started) {
        PlainHeader(step);
      }
      break;
    case BuildEvent::Kind::kProgress: {
      if (!event.completed) break;  // one line per sub-task, when it is done
      std::string text = event.id.empty() ? event.name : event.id;
      std::string amount = ProgressAmount(text, event.current, event.total);
      if (!amount.empty()) absl::StrAppend(&text, " ", amount);
      if (event.started && event.completed) {
        absl::StrAppend(&text, " ", Seconds(*event.completed - *event.started));
      }
      PlainLine(step, text + " done");
      break;
    }
    case BuildEvent::Kind::kLog: {
      const absl::Duration since =
          step.started ? event.timestamp - *step.started : absl::ZeroDuration();
      std::vector<std::string> lines = absl::StrSplit(event.log, '\n');
      if (!lines.empty() && lines.back().empty()) lines.pop_back();
      for (std::string& line : lines) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        PlainLine(step, absl::StrFormat("%.3f %s", absl::ToDoubleSeconds(std::max(since, absl::ZeroDuration())), line));
      }
      break;
    }
    case BuildEvent::Kind::kWarning:
      break;
  }
  out_ << std::flush;
}

void BuildProgress::RawJson(const BuildEvent& event) {
  static const char* kKinds[] = {"vertex", "progress", "log", "warning"};
  std::string line = absl::StrCat("{\"kind\":\"", kKinds[static_cast<int>(event.kind)],
                                  "\",\"vertex\":", Json(event.vertex));
  switch (event.kind) {
    case BuildEvent::Kind::kVertex:
      absl::StrAppend(&line, ",\"name\":", Json(event.name), ",\"cached\":",
                      event.cached ? "true" : "false", ",\"started\":", JsonTime(event.started),
                      ",\"completed\":", JsonTime(event.completed));
      if (!event.error.empty()) absl::StrAppend(&line, ",\"error\":", Json(event.error));
      if (!event.inputs.empty()) {
        absl::StrAppend(&line, ",\"inputs\":[");
        for (size_t i = 0; i < event.inputs.size(); ++i) {
          absl::StrAppend(&line, i ? "," : "", Json(event.inputs[i]));
        }
        absl::StrAppend(&line, "]");
      }
      break;
    case BuildEvent::Kind::kProgress:
      absl::StrAppend(&line, ",\"id\":", Json(event.id), ",\"name\":", Json(event.name),
                      ",\"current\":", event.current, ",\"total\":", event.total,
                      ",\"started\":", JsonTime(event.started), ",\"completed\":",
                      JsonTime(event.completed));
      break;
    case BuildEvent::Kind::kLog:
      absl::StrAppend(&line, ",\"stream\":", event.stream, ",\"data\":", Json(event.log),
                      ",\"timestamp\":", JsonTime(event.timestamp));
      break;
    case BuildEvent::Kind::kWarning:
      absl::StrAppend(&line, ",\"short\":", Json(event.name), ",\"detail\":", Json(event.log),
                      ",\"url\":", Json(event.url));
      break;
  }
  out_ << line << "}\n" << std::flush;
}

void BuildProgress::Draw(bool final) {
  const absl::Time now = now_();
  const size_t width = static_cast<size_t>(TerminalWidth());
  std::vector<std::string> lines;
  int done = 0;
  for (const std::string& digest : order_) {
    const Step& step = steps_.at(digest);
    if (step.completed || step.cached) ++done;
  }
  lines.push_back(absl::StrFormat("[+] Building %.1fs (%d/%d)%s",
                                  absl::ToDoubleSeconds(now - start_), done,
                                  static_cast<int>(order_.size()), final ? " FINISHED" : ""));
  // Steps in the order they started (like buildx), the ones not begun yet left out.
  std::vector<const Step*> shown;
  for (const std::string& digest : order_) {
    const Step& step = steps_.at(digest);
    if (step.started || step.cached) shown.push_back(&step);
  }
  std::stable_sort(shown.begin(), shown.end(), [](const Step* a, const Step* b) {
    const absl::Time ta = a->started ? *a->started : a->completed ? *a->completed : absl::InfiniteFuture();
    const absl::Time tb = b->started ? *b->started : b->completed ? *b->completed : absl::InfiniteFuture();
    return ta < tb;
  });
  for (const Step* shown_step : shown) {
    const Step& step = *shown_step;
    std::string timer;
    if (step.started && !step.cached) {
      timer = Seconds((step.completed ? *step.completed : now) - *step.started);
    } else {
      timer = "0.0s";
    }
    std::string prefix = !step.error.empty() ? " => ERROR " : step.cached ? " => CACHED " : " => ";
    const std::string head = Fit(prefix + step.name, width > timer.size() + 2 ? width - timer.size() - 2 : width);
    lines.push_back(head + std::string(width - std::min(width, head.size() + timer.size() + 1), ' ') + timer);
    const bool running = step.started && !step.completed && !step.cached;
    for (const Progress& p : step.progress) {
      if (!running && !final) continue;
      if (final && !running) continue;
      const std::string& label = p.id.empty() ? p.name : p.id;
      std::string text = " => => " + label;
      const std::string amount = ProgressAmount(label, p.current, p.total);
      if (!amount.empty()) absl::StrAppend(&text, " ", amount);
      std::string ptimer = p.started ? Seconds((p.completed ? *p.completed : now) - *p.started) : "";
      text = Fit(text, width > ptimer.size() + 2 ? width - ptimer.size() - 2 : width);
      lines.push_back(text + std::string(width - std::min(width, text.size() + ptimer.size() + 1), ' ') + ptimer);
    }
    if (running || !step.error.empty()) {
      const size_t tail = step.error.empty() ? 6 : 20;
      const size_t from = step.log_lines.size() > tail ? step.log_lines.size() - tail : 0;
      for (size_t i = from; i < step.log_lines.size(); ++i) {
        lines.push_back(Fit(" => => # " + step.log_lines[i], width - 1));
      }
    }
  }
  std::string frame;
  if (lines_drawn_ > 0) absl::StrAppend(&frame, "\x1b[", lines_drawn_, "A");
  for (const std::string& line : lines) absl::StrAppend(&frame, "\r\x1b[2K", line, "\n");
  // Clear what is left of a longer previous frame.
  for (size_t i = lines.size(); i < lines_drawn_; ++i) absl::StrAppend(&frame, "\x1b[2K\n");
  if (lines_drawn_ > lines.size()) {
    absl::StrAppend(&frame, "\x1b[", lines_drawn_ - lines.size(), "A");
  }
  out_ << frame << std::flush;
  lines_drawn_ = lines.size();
}

void BuildProgress::Finish() {
  {
    std::lock_guard lock(mu_);
    if (finished_) return;
    finished_ = true;
    cv_.notify_all();
  }
  if (ticker_.joinable()) ticker_.join();
  std::lock_guard lock(mu_);
  if (mode_ == Mode::kPlain) {
    FlushPendingDone("");
    out_ << std::flush;
  }
  if (mode_ == Mode::kTty) {
    Draw(true);
    for (const std::string& w : warnings_) out_ << "WARNING: " << w << "\n";
    out_ << std::flush;
  }
}

}  // namespace kim::cli
