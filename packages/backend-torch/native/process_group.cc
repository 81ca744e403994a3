// PyTorch's distributed engine for Kindling: a c10d ProcessGroupGloo over a TCPStore rendezvous, the same pieces
// `torch.distributed.init_process_group("gloo")` builds, reached from JavaScript.
//
// JavaScript owns the memory: every collective works in place on a typed array (at::from_blob, no copy), on a
// libuv worker thread, and settles a promise; the array is held (a persistent reference) until it does. The
// rendezvous first waits on the store for every rank's key, so a worker that never joins is named in one line
// within the rendezvous timeout instead of hanging in gloo's connection mesh.
//
// Compiled only where gloo's headers are (Debian's libgloo-dev); elsewhere `distributed` is false and joining
// says what to install.

#include <napi.h>

#if __has_include(<gloo/config.h>) && __has_include(<torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>)
#define USE_C10D_GLOO 1
#define KINDLING_DISTRIBUTED 1
#include <ATen/ATen.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#if __has_include(<glog/logging.h>)
#include <glog/logging.h>
#define KINDLING_GLOG 1
#endif
#else
#define KINDLING_DISTRIBUTED 0
#endif

#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace kindling {

namespace {

#if KINDLING_DISTRIBUTED

// The first line of a libtorch or gloo error, without its C++ backtrace.
std::string FirstLine(const std::exception& error) {
  const auto* torchError = dynamic_cast<const c10::Error*>(&error);
  std::string message = torchError != nullptr ? torchError->what_without_backtrace() : error.what();
  return message.substr(0, message.find('\n'));
}

struct Settings {
  int rank = 0;
  int size = 1;
  std::string host;
  int port = 0;
  // this process serves the store (rank 0 when no launcher's agent serves it)
  bool server = false;
  // keys of this attempt live under it (torchrun's `/worker/attempt_<n>`), so a restarted group never reads the
  // addresses its dead predecessor left in the agent's store
  std::string prefix;
  std::chrono::milliseconds rendezvous{300000};
  std::chrono::milliseconds operations{1800000};
  // GLOO_SOCKET_IFNAME, as PyTorch reads it: the network interface gloo binds to (default: the host name's address)
  std::string interface;
};

std::string Where(const Settings& settings) { return settings.host + ":" + std::to_string(settings.port); }

std::string Seconds(std::chrono::milliseconds duration) {
  const double seconds = static_cast<double>(duration.count()) / 1000.0;
  std::string text = std::to_string(seconds);
  text.erase(text.find_last_not_of('0') + 1);
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text + " s";
}

class Group : public Napi::ObjectWrap<Group> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "ProcessGroup",
                       {
                           InstanceMethod<&Group::AllReduce>("allReduce"),
                           InstanceMethod<&Group::Broadcast>("broadcast"),
                           InstanceMethod<&Group::Barrier>("barrier"),
                           InstanceMethod<&Group::Leave>("leave"),
                           InstanceAccessor<&Group::Rank>("rank"),
                           InstanceAccessor<&Group::Size>("size"),
                       });
  }

  explicit Group(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Group>(info) {}

  void Adopt(c10::intrusive_ptr<c10d::ProcessGroupGloo> group, int rank, int size) {
    group_ = std::move(group);
    rank_ = rank;
    size_ = size;
  }

  c10::intrusive_ptr<c10d::ProcessGroupGloo> Handle(Napi::Env env) const {
    if (!group_) throw Napi::Error::New(env, "the process group was left (leave() was called)");
    return group_;
  }

 private:
  Napi::Value Rank(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), rank_); }
  Napi::Value Size(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), size_); }
  Napi::Value AllReduce(const Napi::CallbackInfo& info);
  Napi::Value Broadcast(const Napi::CallbackInfo& info);
  Napi::Value Barrier(const Napi::CallbackInfo& info);

  // Lets the group go: gloo's threads stop and its connections close once no collective holds it.
  Napi::Value Leave(const Napi::CallbackInfo& info) {
    group_.reset();
    return info.Env().Undefined();
  }

  c10::intrusive_ptr<c10d::ProcessGroupGloo> group_;
  int rank_ = 0;
  int size_ = 1;
};

Napi::FunctionReference* groupClass = nullptr;

// Runs a collective on a libuv thread and settles a promise; the typed array stays referenced until then.
class Collective : public Napi::AsyncWorker {
 public:
  using Body = std::function<void()>;
  Collective(Napi::Env env, Napi::Value keep, std::string what, Body body)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), what_(std::move(what)), body_(std::move(body)) {
    if (keep.IsObject()) kept_ = Napi::Persistent(keep.As<Napi::Object>());
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    try {
      body_();
    } catch (const std::exception& error) {
      SetError(what_ + " failed: " + FirstLine(error));
    }
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::string what_;
  Body body_;
  Napi::ObjectReference kept_;
};

// A typed array as a CPU tensor over its own memory.
at::Tensor Viewed(const Napi::Value& value) {
  if (!value.IsTypedArray()) throw Napi::TypeError::New(value.Env(), "a collective takes a Float32Array, Int32Array or Uint8Array");
  Napi::TypedArray array = value.As<Napi::TypedArray>();
  at::ScalarType type;
  switch (array.TypedArrayType()) {
    case napi_float32_array: type = at::kFloat; break;
    case napi_float64_array: type = at::kDouble; break;
    case napi_int32_array: type = at::kInt; break;
    case napi_uint8_array: type = at::kByte; break;
    default: throw Napi::TypeError::New(value.Env(), "a collective takes a Float32Array, Float64Array, Int32Array or Uint8Array");
  }
  void* data = static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
  return at::from_blob(data, {static_cast<int64_t>(array.ElementLength())}, at::TensorOptions().dtype(type));
}

void Await(const c10::intrusive_ptr<c10d::Work>& work) {
  work->wait();
}

// allReduce(array, op: 'sum' | 'max' | 'min'): every worker ends with the elementwise result, in place.
Napi::Value Group::AllReduce(const Napi::CallbackInfo& info) {
  auto group = Handle(info.Env());
  at::Tensor tensor = Viewed(info[0]);
  const std::string op = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "sum";
  c10d::AllreduceOptions options;
  if (op == "sum") options.reduceOp = c10d::ReduceOp::SUM;
  else if (op == "max") options.reduceOp = c10d::ReduceOp::MAX;
  else if (op == "min") options.reduceOp = c10d::ReduceOp::MIN;
  else throw Napi::RangeError::New(info.Env(), "allReduce: the operation is sum, max or min, not '" + op + "'");
  auto* worker = new Collective(info.Env(), info[0], "allreduce", [group, tensor, options]() {
    std::vector<at::Tensor> tensors{tensor};
    Await(group->allreduce(tensors, options));
  });
  worker->Queue();
  return worker->Promise();
}

// broadcast(array, root): every worker ends with root's values, in place.
Napi::Value Group::Broadcast(const Napi::CallbackInfo& info) {
  auto group = Handle(info.Env());
  at::Tensor tensor = Viewed(info[0]);
  c10d::BroadcastOptions options;
  options.rootRank = info[1].As<Napi::Number>().Int32Value();
  if (options.rootRank < 0 || options.rootRank >= size_) throw Napi::RangeError::New(info.Env(), "broadcast: no rank " + std::to_string(options.rootRank) + " in a group of " + std::to_string(size_));
  auto* worker = new Collective(info.Env(), info[0], "broadcast", [group, tensor, options]() {
    std::vector<at::Tensor> tensors{tensor};
    Await(group->broadcast(tensors, options));
  });
  worker->Queue();
  return worker->Promise();
}

Napi::Value Group::Barrier(const Napi::CallbackInfo& info) {
  auto group = Handle(info.Env());
  auto* worker = new Collective(info.Env(), info.Env().Undefined(), "barrier", [group]() { Await(group->barrier()); });
  worker->Queue();
  return worker->Promise();
}

// The rendezvous and the group, on a libuv thread: it waits for the other workers.
class Join : public Napi::AsyncWorker {
 public:
  Join(Napi::Env env, Settings settings) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), settings_(std::move(settings)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
#ifdef KINDLING_GLOG
    // c10d logs each failed connection attempt and timeout through glog on stderr, beside the one line this
    // addon's error already says: only fatal messages are left on
    FLAGS_minloglevel = google::GLOG_FATAL;
#endif
    try {
      group_ = Rendezvous();
    } catch (const std::exception& error) {
      SetError(FirstLine(error));
    }
  }

  void OnOK() override {
    Napi::Object object = groupClass->New({});
    Group::Unwrap(object)->Adopt(group_, settings_.rank, settings_.size);
    deferred_.Resolve(object);
  }
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  c10::intrusive_ptr<c10d::ProcessGroupGloo> Rendezvous() {
    const Settings& s = settings_;
    c10d::TCPStoreOptions options;
    options.port = static_cast<std::uint16_t>(s.port);
    options.isServer = s.server;
    options.numWorkers = s.size;
    options.waitWorkers = false;  // the wait below names who is missing
    options.timeout = s.rendezvous;
    options.multiTenant = true;
    c10::intrusive_ptr<c10d::Store> tcp;
    try {
      tcp = c10::make_intrusive<c10d::TCPStore>(s.host, options);
    } catch (const std::exception& error) {
      throw std::runtime_error(
          (s.server ? "could not serve the rendezvous at " + Where(s) + " (" + FirstLine(error) + "): is MASTER_PORT taken?"
                    : "could not reach the rendezvous at " + Where(s) + " within " + Seconds(s.rendezvous) + " (" + FirstLine(error) +
                          "): is the worker of rank 0 (or the launcher) running there?"));
    }
    auto store = c10::make_intrusive<c10d::PrefixStore>(s.prefix, tcp);
    store->set("kindling/joined/" + std::to_string(s.rank), std::vector<uint8_t>{1});
    std::vector<std::string> keys;
    for (int rank = 0; rank < s.size; ++rank) keys.push_back("kindling/joined/" + std::to_string(rank));
    try {
      store->wait(keys, s.rendezvous);
    } catch (const std::exception& error) {
      std::string missing;
      int count = 0;
      for (int rank = 0; rank < s.size; ++rank) {
        bool joined = false;
        try {
          joined = store->check({keys[rank]});
        } catch (const std::exception&) {
        }
        if (!joined) {
          missing += (count == 0 ? "" : ", ") + std::to_string(rank);
          ++count;
        }
      }
      if (count == 0) throw std::runtime_error("the rendezvous at " + Where(s) + " failed: " + FirstLine(error));
      throw std::runtime_error(std::string(count == 1 ? "the worker of rank " : "the workers of ranks ") + missing + " (of " +
                               std::to_string(s.size) + ") did not join the rendezvous at " + Where(s) + " within " + Seconds(s.rendezvous));
    }
    auto groupOptions = c10d::ProcessGroupGloo::Options::create(s.operations);
    groupOptions->devices.push_back(s.interface.empty() ? c10d::ProcessGroupGloo::createDefaultDevice()
                                                        : c10d::ProcessGroupGloo::createDeviceForInterface(s.interface));
    groupOptions->threads = 2;
    return c10::make_intrusive<c10d::ProcessGroupGloo>(c10::make_intrusive<c10d::PrefixStore>("kindling/gloo", store), s.rank, s.size, groupOptions);
  }

  Napi::Promise::Deferred deferred_;
  Settings settings_;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group_;
};

// joinGroup({ rank, size, host, port, server, prefix, rendezvousMs, operationsMs, interface }) → Promise<ProcessGroup>
Napi::Value JoinGroup(const Napi::CallbackInfo& info) {
  Napi::Object options = info[0].As<Napi::Object>();
  Settings settings;
  settings.rank = options.Get("rank").As<Napi::Number>().Int32Value();
  settings.size = options.Get("size").As<Napi::Number>().Int32Value();
  settings.host = options.Get("host").As<Napi::String>().Utf8Value();
  settings.port = options.Get("port").As<Napi::Number>().Int32Value();
  settings.server = options.Get("server").As<Napi::Boolean>().Value();
  settings.prefix = options.Get("prefix").As<Napi::String>().Utf8Value();
  settings.rendezvous = std::chrono::milliseconds(options.Get("rendezvousMs").As<Napi::Number>().Int64Value());
  settings.operations = std::chrono::milliseconds(options.Get("operationsMs").As<Napi::Number>().Int64Value());
  if (options.Get("interface").IsString()) settings.interface = options.Get("interface").As<Napi::String>().Utf8Value();
  if (settings.size < 1 || settings.rank < 0 || settings.rank >= settings.size) {
    throw Napi::RangeError::New(info.Env(), "rank " + std::to_string(settings.rank) + " is not in a group of " + std::to_string(settings.size));
  }
  if (settings.port < 1 || settings.port > 65535) throw Napi::RangeError::New(info.Env(), "port " + std::to_string(settings.port) + " is not a TCP port");
  auto* worker = new Join(info.Env(), std::move(settings));
  worker->Queue();
  return worker->Promise();
}

#endif

}  // namespace

// Adds `distributed` (whether gloo is compiled in) and, when it is, `joinGroup` to the addon's exports.
void InitDistributed(Napi::Env env, Napi::Object exports) {
#if KINDLING_DISTRIBUTED
  exports.Set("distributed", true);
  Napi::Function constructor = Group::Define(env);
  groupClass = new Napi::FunctionReference(Napi::Persistent(constructor));
  exports.Set("joinGroup", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
    try {
      return JoinGroup(info);
    } catch (const Napi::Error&) {
      throw;
    } catch (const std::exception& error) {
      throw Napi::Error::New(info.Env(), error.what());
    }
  }));
#else
  exports.Set("distributed", false);
#endif
}

}  // namespace kindling
