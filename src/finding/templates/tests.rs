use std::collections::BTreeMap;

use super::*;

/// Masks a real header line (no continuation lines).
fn m(header: &str) -> String {
    mask(message_of(header), header).text
}

#[test]
fn message_of_each_layout() {
    let cases = [
        (
            "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating",
            "PacketResponder 1 for block blk_38865049064139660 terminating",
        ),
        (
            "2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster for application appattempt_1445144423722_0020_000001",
            "Created MRAppMaster for application appattempt_1445144423722_0020_000001",
        ),
        (
            "2015-10-18 18:06:01,840 ERROR [RMCommunicator Allocator] org.apache.hadoop.mapreduce.v2.app.rm.RMContainerAllocator: ERROR IN CONTACTING RM. ",
            "ERROR IN CONTACTING RM. ",
        ),
        (
            "2015-07-29 19:13:24,282 - WARN  [RecvWorker:188978561024:QuorumCnxManager$RecvWorker@762] - Connection broken for id 188978561024, my id = 1, error = ",
            "Connection broken for id 188978561024, my id = 1, error = ",
        ),
        (
            "2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - Notification time out: 3200",
            "Notification time out: 3200",
        ),
        (
            "17/06/09 20:10:40 INFO spark.SecurityManager: Changing view acls to: yarn,curi",
            "Changing view acls to: yarn,curi",
        ),
        (
            "2020-12-24 14:55:32,420 [master.Master] WARN : Tablet server kn-host-4:9997[10000071d0d0005] exceeded maximum hold time: attempting to kill it",
            "Tablet server kn-host-4:9997[10000071d0d0005] exceeded maximum hold time: attempting to kill it",
        ),
        (
            "2018-02-13 22:19:13,972 ERROR org.apache.hadoop.yarn.server.nodemanager.LocalDirsHandlerService (DiskHealthMonitor-Timer): Most of the disks failed.",
            "Most of the disks failed.",
        ),
        (
            "2024-01-11 06:23:58.586 UTC [26] PANIC:  could not write to file \"pg_logical/replorigin_checkpoint.tmp\": No space left on device",
            "could not write to file \"pg_logical/replorigin_checkpoint.tmp\": No space left on device",
        ),
    ];
    for (header, message) in cases {
        assert_eq!(message_of(header), message, "{header}");
    }
}

#[test]
fn ids_numbers_and_addresses_mask_to_one_text() {
    let same = [
        (
            "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating",
            "081109 203807 222 INFO dfs.DataNode$PacketResponder: PacketResponder 0 for block blk_-6952295868487656571 terminating",
            "PacketResponder <num> for block <blk> terminating",
        ),
        (
            "081109 204005 35 INFO dfs.FSNamesystem: BLOCK* NameSystem.addStoredBlock: blockMap updated: 10.251.73.220:50010 is added to blk_7128370237687728475 size 67108864",
            "081109 204005 35 INFO dfs.FSNamesystem: BLOCK* NameSystem.addStoredBlock: blockMap updated: 10.251.111.130:50010 is added to blk_-5704899712662113150 size 3542",
            "BLOCK* NameSystem.addStoredBlock: blockMap updated: <addr> is added to <blk> size <num>",
        ),
        (
            "081109 204815 653 INFO dfs.DataNode$DataXceiver: Receiving block blk_5792489080791696128 src: /10.251.30.6:33145 dest: /10.251.30.6:50010",
            "081109 204842 663 INFO dfs.DataNode$DataXceiver: Receiving block blk_1724757848743533110 src: /10.251.111.130:49851 dest: /10.251.111.130:50010",
            "Receiving block <blk> src: <addr> dest: <addr>",
        ),
        (
            "2015-07-29 19:13:24,282 - WARN  [RecvWorker:188978561024:QuorumCnxManager$RecvWorker@762] - Connection broken for id 188978561024, my id = 3, error = ",
            "2015-07-29 19:13:27,721 - WARN  [RecvWorker:188978561024:QuorumCnxManager$RecvWorker@762] - Connection broken for id 1, my id = 1, error = ",
            "Connection broken for id <num>, my id = <num>, error =",
        ),
        (
            "2015-07-29 17:41:44,747 - WARN  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:QuorumCnxManager@368] - Cannot open channel to 2 at election address /10.10.34.12:3888",
            "2015-07-29 17:41:44,747 - WARN  [WorkerSender[myid=1]:QuorumCnxManager@368] - Cannot open channel to 3 at election address /10.10.34.13:3888",
            "Cannot open channel to <num> at election address <addr>",
        ),
        (
            "2015-10-18 18:06:03,856 INFO [RMCommunicator Allocator] org.apache.hadoop.ipc.Client: Retrying connect to server: msra-sa-41:8030. Already tried 0 time(s); retry policy is RetryUpToMaximumCountWithFixedSleep(maxRetries=10, sleepTime=1000 MILLISECONDS)",
            "2015-10-18 18:06:13,856 INFO [LeaseRenewer:msrabi@msra-sa-41:9000] org.apache.hadoop.ipc.Client: Retrying connect to server: msra-sa-41/10.190.173.170:9000. Already tried 3 time(s); retry policy is RetryUpToMaximumCountWithFixedSleep(maxRetries=10, sleepTime=1000 MILLISECONDS)",
            "Retrying connect to server: <addr>. Already tried <num> time(s); retry policy is RetryUpToMaximumCountWithFixedSleep(maxRetries=<num>, sleepTime=<num> MILLISECONDS)",
        ),
        (
            "2015-10-18 18:06:02,794 WARN [LeaseRenewer:msrabi@msra-sa-41:9000] org.apache.hadoop.ipc.Client: Address change detected. Old: msra-sa-41/10.190.173.170:9000 New: msra-sa-41:9000",
            "2015-10-18 18:06:02,841 WARN [RMCommunicator Allocator] org.apache.hadoop.ipc.Client: Address change detected. Old: msra-sa-41/10.190.173.170:8030 New: msra-sa-41:8030",
            "Address change detected. Old: <addr> New: <addr>",
        ),
        (
            "2015-10-18 18:06:02,794 WARN [LeaseRenewer:msrabi@msra-sa-41:9000] org.apache.hadoop.hdfs.LeaseRenewer: Failed to renew lease for [DFSClient_NONMAPREDUCE_1537864556_1] for 65 seconds.  Will retry shortly ...",
            "2015-10-18 18:06:04,809 WARN [LeaseRenewer:msrabi@msra-sa-41:9000] org.apache.hadoop.hdfs.LeaseRenewer: Failed to renew lease for [DFSClient_NONMAPREDUCE_-1547462655_1] for 67 seconds.  Will retry shortly ...",
            "Failed to renew lease for [DFSClient_NONMAPREDUCE_<num>_<num>] for <num> seconds. Will retry shortly ...",
        ),
        (
            "2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster for application appattempt_1445144423722_0020_000001",
            "2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster for application appattempt_1445144423722_0021_000002",
            "Created MRAppMaster for application <appattempt>",
        ),
        (
            "2015-10-18 18:01:53,885 INFO [AsyncDispatcher event handler] org.apache.hadoop.mapreduce.v2.app.job.impl.TaskAttemptImpl: attempt_1445144423722_0020_m_000000_0 TaskAttempt Transitioned from NEW to UNASSIGNED",
            "2015-10-18 18:01:53,885 INFO [AsyncDispatcher event handler] org.apache.hadoop.mapreduce.v2.app.job.impl.TaskAttemptImpl: attempt_1445144423722_0020_m_000002_1 TaskAttempt Transitioned from NEW to UNASSIGNED",
            "<attempt> TaskAttempt Transitioned from NEW to UNASSIGNED",
        ),
        (
            "2015-07-29 19:37:27,222 - INFO  [ProcessThread(sid:2 cport:-1)::PrepRequestProcessor@627] - Got user-level KeeperException when processing sessionid:0x34ed93485090001 type:create cxid:0x55b8bb0f zxid:0x100000010 txntype:-1 reqpath:n/a Error Path:/home/curi/.zookeeper Error:KeeperErrorCode = NodeExists for /home/curi/.zookeeper",
            "2015-07-29 19:38:27,222 - INFO  [ProcessThread(sid:2 cport:-1)::PrepRequestProcessor@627] - Got user-level KeeperException when processing sessionid:0x14ed93111f20027 type:create cxid:0x55b8bc1a zxid:0x200000a1c txntype:-1 reqpath:n/a Error Path:/hbase/rs Error:KeeperErrorCode = NodeExists for /hbase/rs",
            "Got user-level KeeperException when processing sessionid:<session> type:create cxid:<session> zxid:<session> txntype:<num> reqpath:n/a Error Path:<path> Error:KeeperErrorCode = NodeExists for <path>",
        ),
        (
            "2015-10-18 18:04:11,001 WARN [ResponseProcessor for block BP-1347369012-10.190.173.170-1444972147527:blk_1073743512_2731] org.apache.hadoop.hdfs.DFSClient: Slow ReadProcessor read fields took 65020ms (threshold=30000ms); ack: seqno: -2 status: SUCCESS status: ERROR downstreamAckTimeNanos: 0, targets: [10.86.169.121:50010, 10.190.173.170:50010]",
            "2015-10-18 18:05:11,001 WARN [ResponseProcessor for block BP-1347369012-10.190.173.170-1444972147527:blk_1073743513_2732] org.apache.hadoop.hdfs.DFSClient: Slow ReadProcessor read fields took 31012ms (threshold=30000ms); ack: seqno: 17 status: SUCCESS status: ERROR downstreamAckTimeNanos: 12, targets: [10.86.169.122:50010, 10.190.173.171:50010]",
            "Slow ReadProcessor read fields took <num> ms (threshold=<num> ms); ack: seqno: <num> status: SUCCESS status: ERROR downstreamAckTimeNanos: <num>, targets: [<addr>, <addr>]",
        ),
        (
            "2015-10-18 18:04:11,001 WARN [ResponseProcessor for block BP-1347369012-10.190.173.170-1444972147527:blk_1073743512_2731] org.apache.hadoop.hdfs.DFSClient: DFSOutputStream ResponseProcessor exception  for block BP-1347369012-10.190.173.170-1444972147527:blk_1073743512_2731",
            "2015-10-18 18:04:11,001 WARN [ResponseProcessor for block BP-1347369012-10.190.173.170-1444972147527:blk_1073743512_2731] org.apache.hadoop.hdfs.DFSClient: DFSOutputStream ResponseProcessor exception  for block BP-929597290-10.86.169.121-1444972137219:blk_1073741999_1175",
            "DFSOutputStream ResponseProcessor exception for block <bp>:<blk>",
        ),
        (
            "17/06/09 20:10:52 INFO storage.BlockManager: Found block rdd_2_4 locally",
            "17/06/09 20:11:52 INFO storage.BlockManager: Found block rdd_42_0 locally",
            "Found block rdd_<num>_<num> locally",
        ),
        (
            "2020-12-24 14:55:32,420 [master.Master] WARN : Tablet server kn-host-4:9997[10000071d0d0005] exceeded maximum hold time: attempting to kill it",
            "2020-12-24 14:58:32,420 [master.Master] WARN : Tablet server kn-host-12:9997[20000071d0d00a7] exceeded maximum hold time: attempting to kill it",
            "Tablet server <addr>[<hex>] exceeded maximum hold time: attempting to kill it",
        ),
        (
            "2020-01-01 08:02:37,617 [myid:1] - WARN  [NIOServerCxn.Factory:1.2.3.4/1.2.3.4:2181:NIOServerCnxnFactory@193] - Too many connections from /10.11.112.108 - max is 60",
            "2021-12-16 15:43:21,206 WARN org.apache.zookeeper.server.NIOServerCnxnFactory: Too many connections from /10.101.56.11 - max is 60",
            "Too many connections from <addr> - max is <num>",
        ),
        (
            "2015-10-18 18:01:57,447 INFO [AsyncDispatcher event handler] org.apache.hadoop.mapreduce.v2.app.job.impl.TaskAttemptImpl: TaskAttempt: [attempt_1445144423722_0020_m_000000_0] using containerId: [container_1445144423722_0020_01_000002 on NM: [04DN8IQ.fareast.corp.microsoft.com:54883]",
            "2015-10-18 18:01:58,963 INFO [AsyncDispatcher event handler] org.apache.hadoop.mapreduce.v2.app.job.impl.TaskAttemptImpl: TaskAttempt: [attempt_1445144423722_0020_m_000001_0] using containerId: [container_1445144423722_0020_01_000003 on NM: [MININT-FNANLI5.fareast.corp.microsoft.com:52368]",
            "TaskAttempt: [<attempt>] using containerId: [<container> on NM: [<addr>]",
        ),
    ];
    for (a, b, want) in same {
        assert_eq!(m(a), want, "{a}");
        assert_eq!(m(b), want, "{b}");
    }

    // Another message is another text.
    assert_ne!(
        m(same[0].0),
        m(same[2].0),
        "PacketResponder / Receiving block"
    );
    assert_ne!(
        m(
            "2015-07-29 19:04:29,071 - WARN  [SendWorker:188978561024:QuorumCnxManager$SendWorker@688] - Send worker leaving thread"
        ),
        m(
            "2015-07-29 19:04:29,079 - WARN  [SendWorker:188978561024:QuorumCnxManager$SendWorker@679] - Interrupted while waiting for message on queue"
        ),
    );
    // Nothing variable: kept as written (whitespace collapsed).
    assert_eq!(
        m(
            "2015-10-18 18:06:01,840 ERROR [RMCommunicator Allocator] org.apache.hadoop.mapreduce.v2.app.rm.RMContainerAllocator: ERROR IN CONTACTING RM. "
        ),
        "ERROR IN CONTACTING RM."
    );
}

#[test]
fn other_tokens() {
    let t = |s: &str| mask(s, s).text;
    assert_eq!(
        t(
            "Removed container_e17_1445144423722_0020_01_000002 of application_1445144423722_0020 (job_1445144423722_0020, task_1445144423722_0020_m_000003)"
        ),
        "Removed <container> of <application> (<job>, <task>)"
    );
    assert_eq!(
        t(
            "Failed to write hdfs://msra-sa-41:9000/user/curi/out/part-00000. Also tried file:/tmp/hadoop-yarn/staging and /tmp/logs/application_1445144423722_0020/x.log."
        ),
        "Failed to write <path>. Also tried <path> and <path>."
    );
    assert_eq!(
        t(
            "Removing blockmgr-3c9c5e5a-1b2c-4d5e-8f90-0123456789ab at 2015-10-18 18:01:47,978 after 12.5 MB and 4096 bytes in 10 seconds, 5s, 512M"
        ),
        "Removing blockmgr-<uuid> at <ts> after <num> MB and <num> bytes in <num> seconds, <num> s, <num> M"
    );
    assert_eq!(
        t("Table 'web_logs' not found for user \"alice\"; can't continue"),
        "Table '<*>' not found for user \"<*>\"; can't continue"
    );
    assert_eq!(
        t("Using log4j with s3a on x86_64, 64bit, HTTP/1.1, stage 0.0 (TID 12), boot = -74"),
        "Using log4j with s3a on x86_<num>, 64bit, HTTP/<num>, stage <num> (TID <num>), boot = <num>"
    );
    assert_eq!(
        t("session 0x0 hash 9f86d081884c7d65"),
        "session <hex> hash <hex>"
    );
    assert_eq!(
        t("at localhost:8020 and nn1.example.com:8020"),
        "at <addr> and <addr>"
    );
    // A source position is not an address.
    assert_eq!(
        t("near NIOServerCnxn.java:349"),
        "near NIOServerCnxn.java:<num>"
    );
}

#[test]
fn exception_classes_are_kept_and_named() {
    let h = "2015-08-20 17:14:11,414 - WARN  [NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:NIOServerCnxn@354] - Exception causing close of session 0x0 due to java.io.IOException: ZooKeeperServer not running";
    let got = mask(message_of(h), h);
    assert_eq!(
        got.text,
        "Exception causing close of session <hex> due to java.io.IOException: ZooKeeperServer not running"
    );
    assert_eq!(got.exception.as_deref(), Some("java.io.IOException"));

    // Never masked inside a class name, even where a rule would apply.
    let got = mask("Lost: org.example.Outer$1Exception:50010 on 10.0.0.1", "");
    assert_eq!(
        got.text,
        "Lost: org.example.Outer$1Exception:<num> on <addr>"
    );
    assert_eq!(
        got.exception.as_deref(),
        Some("org.example.Outer$1Exception")
    );

    let got = mask(
        "EndOfStreamException: Unable to read additional data from client sessionid 0x14ed93111f20027, likely client has closed socket",
        "",
    );
    assert_eq!(
        got.text,
        "EndOfStreamException: Unable to read additional data from client sessionid <session>, likely client has closed socket"
    );
    assert_eq!(got.exception.as_deref(), Some("EndOfStreamException"));
    assert_eq!(mask("caught end of stream exception", "").exception, None);
}

const DATASTREAMER: &str = "16/06/12 20:55:22 WARN hdfs.DFSClient: DataStreamer Exception";

fn event(header: &str, lines: &[&str]) -> String {
    let mut e = header.to_string();
    for l in lines {
        e.push('\n');
        e.push_str(l);
    }
    e
}

#[test]
fn stack_traces_give_the_exception_not_the_text() {
    let bare = mask(message_of(DATASTREAMER), DATASTREAMER);
    let remote = event(
        DATASTREAMER,
        &[
            "org.apache.hadoop.ipc.RemoteException(java.io.IOException): File /user/root/QuasiMonteCarlo_1465734938932_1463516069/in/part0 could only be replicated to 0 nodes instead of minReplication (=1).  There are 1 datanode(s) running and no node(s) are excluded in this operation.",
            "\tat org.apache.hadoop.hdfs.server.blockmanagement.BlockManager.chooseTarget4NewBlock(BlockManager.java:1547)",
            "\tat org.apache.hadoop.hdfs.server.namenode.FSNamesystem.getNewBlockTargets(FSNamesystem.java:3107)",
            "\tat org.apache.hadoop.ipc.Client.call(Client.java:1475)",
        ],
    );
    let with_trace = mask(message_of(DATASTREAMER), &remote);
    assert_eq!(bare.text, "DataStreamer Exception");
    assert_eq!(with_trace.text, bare.text);
    assert_eq!(bare.exception, None);
    assert_eq!(with_trace.exception.as_deref(), Some("java.io.IOException"));

    // More frames, other line numbers: same template.
    let longer = event(
        DATASTREAMER,
        &[
            "org.apache.hadoop.ipc.RemoteException(java.io.IOException): File /user/hive/x could only be replicated to 0 nodes instead of minReplication (=1).  There are 3 datanode(s) running and 3 node(s) are excluded in this operation.",
            "\tat org.apache.hadoop.hdfs.server.blockmanagement.BlockManager.chooseTarget4NewBlock(BlockManager.java:1622)",
            "\tat org.apache.hadoop.ipc.Client.call(Client.java:1502)",
            "\tat org.apache.hadoop.ipc.Client.call(Client.java:1439)",
            "\t... 12 more",
        ],
    );
    assert_eq!(mask(message_of(DATASTREAMER), &longer), with_trace);

    // Exception in thread "…" X: …
    let oom = event(
        "19/01/07 16:48:07 ERROR SparkUncaughtExceptionHandler: Uncaught exception in thread Thread[Executor task launch worker-0,5,main]",
        &[
            "Exception in thread \"Executor task launch worker-0\" java.lang.OutOfMemoryError: Java heap space",
            "\tat java.util.Arrays.copyOf(Arrays.java:3236)",
        ],
    );
    let got = mask(message_of(oom.lines().next().unwrap()), &oom);
    assert_eq!(
        got.text,
        "Uncaught exception in thread Thread[Executor task launch worker-<num>,<num>,main]"
    );
    assert_eq!(got.exception.as_deref(), Some("java.lang.OutOfMemoryError"));
}

#[test]
fn the_root_cause_is_part_of_identity() {
    let header = "2015-10-18 18:06:01,840 ERROR [RMCommunicator Allocator] org.apache.hadoop.mapreduce.v2.app.rm.RMContainerAllocator: ERROR IN CONTACTING RM. ";
    let trace = |cause: &str| {
        event(
            header,
            &[
                "java.net.ConnectException: Call From MSRA-SA-39/172.22.149.145 to msra-sa-41:8030 failed on connection exception: java.net.ConnectException: Connection refused",
                "\tat org.apache.hadoop.ipc.Client.call(Client.java:1472)",
                cause,
                "\tat sun.nio.ch.SocketChannelImpl.checkConnect(Native Method)",
                "\t... 9 more",
            ],
        )
    };
    let refused = trace("Caused by: java.net.ConnectException: Connection refused");
    let unknown = trace("Caused by: java.net.UnknownHostException: msra-sa-41");
    let a = mask(message_of(header), &refused);
    let b = mask(message_of(header), &unknown);
    assert_eq!(a.text, b.text);
    assert_eq!(a.exception.as_deref(), Some("java.net.ConnectException"));
    assert_eq!(
        b.exception.as_deref(),
        Some("java.net.UnknownHostException")
    );
    assert_ne!(a.id(), b.id());

    // The last `Caused by:` wins over the first exception line and earlier causes.
    let nested = event(
        header,
        &[
            "java.io.IOException: Failed on local exception",
            "Caused by: org.apache.hadoop.ipc.RemoteException(org.apache.hadoop.hdfs.server.namenode.SafeModeException): Cannot create file /x. Name node is in safe mode.",
            "\tat org.apache.hadoop.ipc.Client.call(Client.java:1475)",
            "Caused by: java.io.EOFException",
            "\tat java.io.DataInputStream.readInt(DataInputStream.java:392)",
        ],
    );
    assert_eq!(
        mask(message_of(header), &nested).exception.as_deref(),
        Some("java.io.EOFException")
    );
    let remote = event(
        header,
        &[
            "Caused by: org.apache.hadoop.ipc.RemoteException(org.apache.hadoop.hdfs.server.namenode.SafeModeException): Cannot create file /x. Name node is in safe mode.",
        ],
    );
    assert_eq!(
        mask(message_of(header), &remote).exception.as_deref(),
        Some("org.apache.hadoop.hdfs.server.namenode.SafeModeException")
    );
    // The stack trace's exception wins over one named in the header.
    let e = event(
        "2015-08-20 17:14:11,414 - WARN  [x:NIOServerCnxn@354] - Exception causing close of session 0x0 due to java.io.IOException: ZooKeeperServer not running",
        &["Caused by: java.nio.channels.ClosedChannelException"],
    );
    assert_eq!(
        mask(message_of(e.lines().next().unwrap()), &e)
            .exception
            .as_deref(),
        Some("java.nio.channels.ClosedChannelException")
    );
}

#[test]
fn template_id_is_stable() {
    // A fixed value: if this changes, every unknown-error template changes its id.
    assert_eq!(
        template_id("PacketResponder <num> for block <blk> terminating", None),
        "800b47f3dcde07f9"
    );
    let id = template_id("ERROR IN CONTACTING RM.", Some("java.net.ConnectException"));
    assert_eq!(id.len(), 16);
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert_ne!(id, template_id("ERROR IN CONTACTING RM.", None));
    assert_ne!(
        id,
        template_id(
            "ERROR IN CONTACTING RM.",
            Some("java.net.UnknownHostException")
        )
    );
    // Text and exception do not run into each other.
    assert_ne!(template_id("a", Some("b")), template_id("a\0b", None));
}

fn owned(v: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
    v.iter()
        .map(|(t, e)| (t.to_string(), e.map(str::to_string)))
        .collect()
}

#[test]
fn group_merges_one_differing_token() {
    let input = owned(&[
        (
            "Permission denied: user=alice, access=WRITE, inode=<path>",
            None,
        ),
        (
            "Permission denied: user=bob, access=WRITE, inode=<path>",
            None,
        ),
        (
            "Permission denied: user=carol, access=WRITE, inode=<path>",
            None,
        ),
        ("Table web_logs not found in database default", None),
        ("Table clicks not found in database default", None),
        // two tokens differ from the above: kept
        ("Table clicks not found in schema staging", None),
        // another length: kept
        ("Table clicks not found", None),
        // another exception: kept apart
        (
            "Table orders not found in database default",
            Some("java.io.IOException"),
        ),
        // another first token: kept
        ("Index clicks not found in database default", None),
        // two tokens: never merged
        ("Connection refused", None),
        ("Connection reset", None),
    ]);
    let got = group(&input);
    assert_eq!(
        got,
        [
            "Permission denied: <*> access=WRITE, inode=<path>",
            "Permission denied: <*> access=WRITE, inode=<path>",
            "Permission denied: <*> access=WRITE, inode=<path>",
            "Table <*> not found in database default",
            "Table <*> not found in database default",
            "Table clicks not found in schema staging",
            "Table clicks not found",
            "Table orders not found in database default",
            "Index clicks not found in database default",
            "Connection refused",
            "Connection reset",
        ]
    );
}

#[test]
fn group_repeats_until_nothing_merges() {
    // Two variable positions, every combination: merges position by position.
    let mut input = Vec::new();
    for user in ["alice", "bob", "carol"] {
        for table in ["t1", "t2"] {
            input.push((
                format!("Access denied for user {user} on table {table} of db"),
                None,
            ));
        }
    }
    let got = group(&input);
    assert!(
        got.iter()
            .all(|t| t == "Access denied for user <*> on table <*> of db"),
        "{got:?}"
    );
    // Already wildcarded templates absorb instances.
    let got = group(&owned(&[
        ("Lost executor <*> on <addr>: Container killed", None),
        ("Lost executor 7 on <addr>: Container killed", None),
    ]));
    assert_eq!(got, ["Lost executor <*> on <addr>: Container killed"; 2]);
    // Duplicates and empty texts.
    let got = group(&owned(&[("", None), ("a b c d", None), ("a b c d", None)]));
    assert_eq!(got, ["", "a b c d", "a b c d"]);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// The result does not depend on the order of the inputs.
    #[test]
    fn group_ignores_input_order(
        shuffled in proptest::strategy::Strategy::prop_shuffle(proptest::strategy::Just(owned(&[
            ("Permission denied: user=alice, access=WRITE, inode=<path>", None),
            ("Permission denied: user=bob, access=WRITE, inode=<path>", None),
            ("Permission denied: user=bob, access=READ, inode=<path>", None),
            ("Permission denied: user=bob, access=READ, inode=<path>", Some("org.apache.hadoop.security.AccessControlException")),
            ("Access denied for user alice on table t1 of db", None),
            ("Access denied for user bob on table t1 of db", None),
            ("Access denied for user alice on table t2 of db", None),
            ("Access denied for user carol on table t3 of db", None),
            ("Access denied for role carol on table t3 of db", None),
            ("Table clicks not found in schema staging", None),
            ("Table clicks not found in database default", None),
            ("Table web_logs not found in database default", None),
            ("Connection refused", None),
            ("Connection reset", None),
        ])))
    ) {
        let reference = {
            let mut sorted = shuffled.clone();
            sorted.sort();
            let out = group(&sorted);
            sorted.into_iter().zip(out).collect::<BTreeMap<_, _>>()
        };
        let got = group(&shuffled);
        for (input, text) in shuffled.iter().zip(&got) {
            proptest::prop_assert_eq!(&reference[input], text);
        }
    }
}
