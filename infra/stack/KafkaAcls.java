// Adds or removes ACLs on the local broker, for tests under its StandardAuthorizer (the stack has no
// kafka-acls tool: kafka-tools is not on its classpath). Run as a single-file program:
//   java -cp <kafka classpath> KafkaAcls.java <bootstrap> add|remove <binding>…
// where a binding is principal,resourceType,name,patternType,operation, e.g.
//   User:ingest,TOPIC,requests.raw,LITERAL,READ
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

public class KafkaAcls {
  static AclBinding binding(String spec) {
    String[] f = spec.split(",", -1);
    if (f.length != 5) throw new IllegalArgumentException("expected principal,type,name,pattern,operation: " + spec);
    ResourcePattern resource =
        new ResourcePattern(ResourceType.fromString(f[1]), f[2], PatternType.fromString(f[3]));
    AccessControlEntry entry =
        new AccessControlEntry(f[0], "*", AclOperation.fromString(f[4]), AclPermissionType.ALLOW);
    return new AclBinding(resource, entry);
  }

  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    props.put("bootstrap.servers", args[0]);
    List<AclBinding> bindings = new ArrayList<>();
    for (int i = 2; i < args.length; i++) bindings.add(binding(args[i]));
    try (Admin admin = Admin.create(props)) {
      if (args[1].equals("add")) admin.createAcls(bindings).all().get();
      else admin.deleteAcls(bindings.stream().map(AclBinding::toFilter).toList()).all().get();
    }
  }
}
