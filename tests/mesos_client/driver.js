"use strict";
// Drives a Mesos-compatible master with the third-party npm client
// mesos-framework (its Scheduler, used as its README shows): subscribe, launch
// one command task from the first offer, wait for TASK_FINISHED (the client's
// own UPDATE handler acknowledges every update), tear down.
//
//   node driver.js --master 127.0.0.1:5050 [--timeout 60]
//
// Exits 0 on TASK_FINISHED and a sent TEARDOWN, 1 on a timeout, an ERROR or
// FAILURE event, a client error, or any other terminal task state.
// mesos-framework logs into ./logs/, which must exist.

var Scheduler = require("mesos-framework").Scheduler;
var Mesos = require("mesos-framework").Mesos.getMesos();

var MARKER = "keel-npm-marker";

function arg(name, fallback) {
    var i = process.argv.indexOf("--" + name);
    return i > -1 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

var master = arg("master", null);
var timeoutSeconds = parseInt(arg("timeout", "60"), 10);
if (!master || master.indexOf(":") < 0) {
    console.error("driver: usage: node driver.js --master HOST:PORT [--timeout SECONDS]");
    process.exit(2);
}
var hostPort = master.split(":");

var finished = false;
var tearingDown = false;

function fail(message) {
    console.error("driver: FAIL: " + message);
    process.exit(1);
}

var timer = setTimeout(function () {
    fail("timed out after " + timeoutSeconds + " s without TASK_FINISHED");
}, timeoutSeconds * 1000);

function note(type, detail) {
    console.log("driver: event " + type + (detail ? " " + detail : ""));
}

var scheduler = new Scheduler({
    masterUrl: hostPort[0],
    port: parseInt(hostPort[1], 10),
    frameworkName: "keel-npm-mesos-framework",
    // TASK_FINISHED is terminal for us: never relaunch.
    restartStates: [],
    masterConnectionTimeout: 30,
    logging: { level: "info" },
    tasks: {
        marker: {
            priority: 1,
            instances: 1,
            commandInfo: new Mesos.CommandInfo(
                null, // uris
                null, // environment
                true, // shell
                "echo " + MARKER, // value
                null, // arguments
                null // user
            ),
            resources: { cpus: 0.1, mem: 32, ports: 0, disk: 0 }
        }
    },
    handlers: {
        // Custom handlers replace the client's default ones for these two; the
        // others (OFFERS launches the pending task, UPDATE acknowledges) stay.
        ERROR: function (error) {
            note("ERROR", JSON.stringify(error));
            fail("ERROR event from the master: " + JSON.stringify(error));
        },
        FAILURE: function (failure) {
            note("FAILURE", JSON.stringify(failure));
            fail("FAILURE event from the master: " + JSON.stringify(failure));
        }
    }
});

scheduler.on("ready", function () {
    note("ready");
    scheduler.subscribe();
});

scheduler.on("sent_subscribe", function (obj) {
    note("sent_subscribe", "stream " + obj.mesosStreamId);
});

scheduler.on("subscribed", function (obj) {
    note("SUBSCRIBED", "framework " + obj.frameworkId + " stream " + obj.mesosStreamId);
});

scheduler.on("offers", function (offers) {
    note("OFFERS", String((offers.offers || []).length) + " offer(s)");
});

scheduler.on("heartbeat", function () {
    note("HEARTBEAT");
});

scheduler.on("rescind", function () {
    note("RESCIND");
});

scheduler.on("message", function () {
    note("MESSAGE");
});

scheduler.on("sent_accept", function () {
    note("sent_accept");
});

scheduler.on("sent_decline", function () {
    note("sent_decline");
});

scheduler.on("sent_acknowledge", function () {
    note("sent_acknowledge");
});

scheduler.on("task_launched", function (task) {
    note("task_launched", task.taskId);
});

scheduler.on("update", function (update) {
    var status = update.status || {};
    note("UPDATE", (status.task_id ? status.task_id.value : "?") + " " + status.state +
        (status.message ? " (" + status.message + ")" : ""));
    if (status.state === "TASK_FINISHED") {
        if (!finished) {
            finished = true;
            // Let the client's acknowledgement go out first, then tear down.
            setTimeout(function () {
                tearingDown = true;
                scheduler.teardown();
            }, 500);
        }
    } else if (["TASK_FAILED", "TASK_KILLED", "TASK_LOST", "TASK_ERROR", "TASK_DROPPED",
                "TASK_GONE", "TASK_GONE_BY_OPERATOR", "TASK_UNKNOWN"].indexOf(status.state) > -1) {
        fail("task ended " + status.state + ": " + JSON.stringify(status));
    }
});

scheduler.on("sent_teardown", function () {
    note("sent_teardown");
    clearTimeout(timer);
    console.log("driver: OK: task finished, acknowledged and framework torn down");
    // Give the log transport a moment, then leave (the client would otherwise
    // resubscribe when the master closes the stream).
    setTimeout(function () { process.exit(0); }, 200);
});

scheduler.on("error", function (error) {
    var message = error && error.message ? error.message : JSON.stringify(error);
    if (tearingDown && /Long-running connection was closed/.test(message)) {
        note("stream closed after TEARDOWN");
        return;
    }
    note("error", message);
    fail("client error: " + message);
});
